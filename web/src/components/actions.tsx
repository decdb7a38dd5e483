// The reviewer's actions on one decision: approve (optional note), reject
// (a dialog with a required reason) and comment. Buttons are disabled while
// a request is in flight; failures are explained in an alert region.

import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { enc, request } from "../api";
import { describeError, type Action, type UserError } from "../messages";
import type { DecisionRecord, DecisionView } from "../types";
import { isOpen } from "../types";
import { Alert } from "./bits";

function ErrorText({ error }: { error: UserError | null }) {
  if (!error) return null;
  return (
    <div class="error">
      <p>{error.message}</p>
      {error.fields && error.fields.length > 0 && (
        <ul>
          {error.fields.map((f) => (
            <li>
              <strong>{f.field}</strong> {f.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Actions({ decision, onChanged }: { decision: DecisionView; onChanged: () => void }) {
  const [busy, setBusy] = useState<Action | null>(null);
  const [error, setError] = useState<UserError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const [comment, setComment] = useState("");
  const [rejectOpen, setRejectOpen] = useState(false);
  const open = isOpen(decision.decision);
  const base = `/hitl/patches/${enc(decision.patch_id)}`;

  async function send<T>(action: Action, path: string, body: object): Promise<T | null> {
    setBusy(action);
    setError(null);
    setDone(null);
    try {
      return await request<T>(path, { method: "POST", body });
    } catch (err) {
      setError(describeError(err, action));
      // A conflict means the decision moved on: show where it is now.
      onChanged();
      return null;
    } finally {
      setBusy(null);
    }
  }

  async function approve(e: Event) {
    e.preventDefault();
    const text = note.trim();
    const rec = await send<DecisionRecord>("approve", `${base}/approve`, {
      decision_id: decision.decision_id,
      ...(text ? { comment: text } : {}),
    });
    if (!rec) return;
    setNote("");
    setDone(
      rec.decision === "approved"
        ? "Approved. The patch may deploy."
        : `Your approval is recorded (${rec.approvals.length} of ${rec.approvals_required}); a second reviewer must approve it too.`,
    );
    onChanged();
  }

  async function addComment(e: Event) {
    e.preventDefault();
    const text = comment.trim();
    if (!text) return;
    const ok = await send("comment", `${base}/comment`, {
      decision_id: decision.decision_id,
      comment: text,
    });
    if (ok === null) return;
    setComment("");
    setDone("Comment added.");
    onChanged();
  }

  async function reject(reason: string): Promise<UserError | null> {
    setBusy("reject");
    setError(null);
    setDone(null);
    try {
      await request<DecisionRecord>(`${base}/reject`, {
        method: "POST",
        body: { decision_id: decision.decision_id, reason },
      });
      setRejectOpen(false);
      setDone("Rejected. The patch will not deploy.");
      onChanged();
      return null;
    } catch (err) {
      onChanged();
      return describeError(err, "reject");
    } finally {
      setBusy(null);
    }
  }

  return (
    <div class="actions" data-testid="actions">
      <Alert testid="action-error">
        <ErrorText error={error} />
      </Alert>
      <div role="status" class="status-slot" data-testid="action-status">
        {done && <p class="success">{done}</p>}
      </div>
      {open && (
        <form class="action-row" onSubmit={approve} aria-label="Approve">
          <label for="approve-note" class="visually-hidden">
            Note with your approval (optional)
          </label>
          <input
            id="approve-note"
            type="text"
            placeholder="Note with your approval (optional)"
            value={note}
            maxLength={10000}
            onInput={(e) => setNote((e.target as HTMLInputElement).value)}
            data-testid="approve-comment"
          />
          <button type="submit" class="button primary" disabled={busy !== null} data-testid="approve">
            {busy === "approve" ? "Approving…" : "Approve"}
          </button>
          <button
            type="button"
            class="button danger"
            disabled={busy !== null}
            onClick={() => setRejectOpen(true)}
            data-testid="reject-open"
          >
            Reject…
          </button>
        </form>
      )}
      <form class="stack comment-form" onSubmit={addComment} aria-label="Comment">
        <label for="comment-text">Comment</label>
        <textarea
          id="comment-text"
          rows={2}
          value={comment}
          maxLength={10000}
          onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)}
          data-testid="comment-text"
        />
        <div>
          <button
            type="submit"
            class="button"
            disabled={busy !== null || comment.trim() === ""}
            data-testid="comment-submit"
          >
            {busy === "comment" ? "Sending…" : "Add comment"}
          </button>
        </div>
      </form>
      {rejectOpen && (
        <RejectDialog
          patchId={decision.patch_id}
          busy={busy === "reject"}
          onSubmit={reject}
          onClose={() => setRejectOpen(false)}
        />
      )}
    </div>
  );
}

function RejectDialog(props: {
  patchId: string;
  busy: boolean;
  onSubmit: (reason: string) => Promise<UserError | null>;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<UserError | null>(null);
  const blank = reason.trim() === "";

  // A layout effect runs before the browser paints or handles more input,
  // so the opener is still the focused element when it is captured.
  useLayoutEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    dialog.showModal();
    return () => {
      if (dialog.open) dialog.close();
      opener?.focus?.();
    };
  }, []);

  async function submit(e: Event) {
    e.preventDefault();
    if (blank || props.busy) return;
    setError(await props.onSubmit(reason.trim()));
  }

  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby="reject-title"
      data-testid="reject-dialog"
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <form onSubmit={submit} class="stack">
        <h2 id="reject-title">Reject patch {props.patchId}</h2>
        <p class="muted">A rejection is final. Say why, so that the next run can fix it.</p>
        <Alert testid="reject-error">
          <ErrorText error={error} />
        </Alert>
        <label for="reject-reason">Reason (required)</label>
        <textarea
          id="reject-reason"
          name="reason"
          rows={4}
          required
          autoFocus
          maxLength={10000}
          value={reason}
          aria-describedby="reject-hint"
          onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              (e.currentTarget as HTMLTextAreaElement).form?.requestSubmit();
            }
          }}
          data-testid="reject-reason"
        />
        <p id="reject-hint" class="hint muted">
          Enter rejects, Shift+Enter starts a new line, Escape cancels.
        </p>
        <div class="dialog-buttons">
          <button type="button" class="button" onClick={props.onClose} data-testid="reject-cancel">
            Cancel
          </button>
          <button
            type="submit"
            class="button danger"
            disabled={blank || props.busy}
            data-testid="reject-submit"
          >
            {props.busy ? "Rejecting…" : "Reject patch"}
          </button>
        </div>
      </form>
    </dialog>
  );
}
