# review_flow LABEL BASE_URL DB_URL: the path the issue asks of the image,
# over real HTTP: wait for /health (bounded), issue a service and a reviewer
# token (the build's hitl, as the owner), create a decision that needs
# review (confidence 0.97: auto-approved by default, pending under the
# test's config file), approve it, read it back approved. One pass or one
# fail, naming the first step that went wrong. Sourced by checks.sh.

# http_json METHOD URL TOKEN [BODY]: prints "STATUS BODY"; curl is bounded.
http_json() {
  local method=$1 url=$2 token=$3 body=${4:-}
  local args=(-sS --max-time 30 -o "$work/http.body" -w '%{http_code}' -X "$method"
              -H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' -d "$body")
  local status
  status=$(curl "${args[@]}" "$url" 2>"$work/http.err") || status="curl-$?"
  echo "$status $(cat "$work/http.body" 2>/dev/null)"
}

# json_field JSON KEY: prints the top-level KEY of JSON ("" if absent).
json_field() {
  python3 -c 'import json,sys
try: print(json.loads(sys.argv[1]).get(sys.argv[2], ""))
except Exception: print("")' "$1" "$2"
}

# wait_healthy URL SECONDS [PID]: polls /health until 200; gives up at the
# deadline or when PID has exited.
wait_healthy() {
  local url=$1 deadline=$((SECONDS + $2)) pid=${3:-}
  while [ $SECONDS -lt $deadline ]; do
    [ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$url/health")" = 200 ] && return 0
    [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 1
    sleep 0.5
  done
  return 1
}

review_flow() {
  local label=$1 base=$2 db=$3 svc rev r status id=dec-ct-$RANDOM$RANDOM
  svc=$("$binary" token create --database-url "$db" --name ct-wargaming --role service 2>>"$out/$label-tokens.log") \
    || { fail "$label: hitl token create (service) failed"; return; }
  rev=$("$binary" token create --database-url "$db" --name ct-alice --role reviewer 2>>"$out/$label-tokens.log") \
    || { fail "$label: hitl token create (reviewer) failed"; return; }

  local create
  create=$(cat <<JSON
{"decision_id":"$id","patch_id":"patch-$id",
 "patch_metadata":{"apv_id":"apv-1","cve_id":"CVE-2026-0001","package_name":"openssl",
   "current_version":"3.0.1","target_version":"3.0.2","severity":"high","cvss_score":8.1},
 "ml_prediction":{"model_version":"xgb-7","confidence":0.97,"prediction":true},
 "wargaming_result":{"phase1_success":true,"phase2_success":true,"validation_passed":true}}
JSON
)
  r=$(http_json POST "$base/hitl/admin/create-decision" "$svc" "$create")
  status=${r%% *}
  echo "$label create: $r" >>"$out/$label-flow.log"
  [ "$status" = 201 ] || { fail "$label: create answered $status (want 201): ${r:0:300}"; return; }
  [ "$(json_field "${r#* }" decision)" = pending ] \
    || { fail "$label: the created decision is '$(json_field "${r#* }" decision)', not pending: the config file was not applied"; return; }

  r=$(http_json POST "$base/hitl/patches/patch-$id/approve" "$rev" '{"comment":"container test"}')
  status=${r%% *}
  echo "$label approve: $r" >>"$out/$label-flow.log"
  [ "$status" = 200 ] || { fail "$label: approve answered $status (want 200): ${r:0:300}"; return; }

  r=$(http_json GET "$base/hitl/decisions/$id" "$svc")
  status=${r%% *}
  echo "$label read: $r" >>"$out/$label-flow.log"
  [ "$status" = 200 ] || { fail "$label: reading the decision answered $status: ${r:0:300}"; return; }
  local decision decided_by
  decision=$(json_field "${r#* }" decision)
  decided_by=$(json_field "${r#* }" decided_by)
  if [ "$decision" = approved ] && [ "$decided_by" = ct-alice ]; then
    pass "$label: created $id pending, approved by ct-alice, read back approved"
  else
    fail "$label: read back decision='$decision' decided_by='$decided_by' (want approved, ct-alice)"
  fi
}
