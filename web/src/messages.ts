// The server's problem responses in words a reviewer understands.

import { ApiError } from "./api";
import { statusWord } from "./format";
import type { FieldError } from "./types";

export type Action = "approve" | "reject" | "comment" | "load";

export interface UserError {
  message: string;
  fields?: FieldError[];
}

export const DB_DOWN = "The service cannot reach its database right now; try again in a moment.";

export function describeError(err: unknown, action: Action): UserError {
  if (!(err instanceof ApiError)) {
    return { message: "Something went wrong in the page; reload it and try again." };
  }
  const detail = err.detail;
  switch (err.status) {
    case 0:
      return { message: "The service cannot be reached; check the connection and try again." };
    case 401:
      return { message: "Your token expired or was revoked; paste a new one." };
    case 403:
      if (/creator/i.test(detail)) {
        return { message: "You created this decision, so you cannot approve it." };
      }
      if (action === "approve" || action === "reject" || action === "comment") {
        return {
          message:
            "Your token's role may not do this: only reviewers approve, reject and comment.",
        };
      }
      return { message: "Your token's role may not see this." };
    case 404:
      return {
        message:
          action === "load"
            ? "There is no such decision."
            : "This decision no longer exists for that patch.",
      };
    case 409: {
      if (/already approved/i.test(detail)) {
        return {
          message:
            "You have already approved this decision; a second reviewer must approve it.",
        };
      }
      const m = /is already (\w+)/i.exec(detail);
      if (m) return { message: `This decision was already ${statusWord(m[1])} by someone else.` };
      if (/being created/i.test(detail)) {
        return { message: "This decision is still being created; try again in a moment." };
      }
      return { message: `This conflicts with the decision's current state: ${detail}` };
    }
    case 413:
      return { message: "The text is too long for the service; shorten it." };
    case 422:
    case 400: {
      const fields = err.problem?.errors ?? [];
      return {
        message: fields.length
          ? "The service did not accept this:"
          : `The service did not accept this: ${detail}`,
        fields,
      };
    }
    case 429:
      return {
        message: "The service is busy with requests like this one; try again in a moment.",
      };
    case 503:
      return { message: DB_DOWN };
    default:
      return {
        message: `The service failed (HTTP ${err.status}); try again, and tell an operator if it persists.`,
      };
  }
}
