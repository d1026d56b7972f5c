# shellcheck shell=bash
# The entrypoint's pure pieces, sourced by docker/common/runtime/bin/entrypoint (as
# /opt/sandbox/lib/sandbox.sh) and by the fast tests (test/unit/shell), which
# run them with fake setpriv and the like on PATH. Definitions only: sourcing
# this file changes nothing.

# Gateway secrets, removed from every environment except the gateway's own
# set-up. The CLI keeps the same list (GATEWAY_SECRET_NAMES, unit-tested).
readonly GATEWAY_SECRETS="ACCESS_TOKEN NGINX_ACCESS_TOKEN NGROK_AUTHTOKEN NGROK_BASIC_AUTH PINGGY_ACCESS_TOKEN PINGGY_BEARER_TOKEN PINGGY_BASIC_AUTH OAUTH_OWNER_PASSPHRASE"
# What the session gateway (and through it the MCP server) may read, besides
# PATH and the names listed in MCP_ENV.
readonly MCP_KEEP_ENV="HOME LOG_LEVEL NPM_MCP_ARGS MCP_MAX_SESSIONS MCP_SESSION_IDLE MCP_TOOLS MCP_TOOLS_DENY MCP_AUDIT MCP_AUDIT_ARGUMENTS MCP_AUDIT_MAX_SIZE MCP_AUDIT_KEEP MCP_AUDIT_STDOUT SANDBOX_NAME"
# The PATH of every process run_as starts. A plain shell variable, set here and
# never read from the environment; only the tests change it (to find fakes).
SANDBOX_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '[sandbox] %s\n' "$*"; }
die() { printf '[sandbox] error: %s\n' "$*" >&2; exit 78; }   # 78: configuration error

# The tables beside this library's folder (/opt/sandbox/tables in the image;
# docker/common/runtime is /opt/sandbox, folder for folder).
SANDBOX_TABLES="$(dirname "${BASH_SOURCE[0]}")/../tables"

# MCP_ENV: the CLI's rule (package_scripts/settings/env-names.ts), for plain
# `docker run` users too: names only, never a gateway secret or a tunnel
# setting, never a name the sandbox reads itself (the generated list
# reserved-env-names), never a loader or interpreter hook (the generated
# loader-env-names; a trailing * is a prefix). test/unit/one-source.test.ts
# runs this function on the CLI's table of cases.
check_mcp_env() {
  local list="$1" reserved="$2" loaders="$3" name pattern
  case "$list" in *[!A-Za-z0-9_,]*) die "MCP_ENV must be a comma-separated list of variable names" ;; esac
  for name in ${list//,/ }; do
    [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "MCP_ENV names '$name', which is not a variable name"
    case " $GATEWAY_SECRETS " in *" $name "*) die "MCP_ENV names $name, a gateway secret; the MCP server must never see it" ;; esac
    case "$name" in NGROK_*|PINGGY_*) die "MCP_ENV names $name, a tunnel setting; the MCP server must never see it" ;; esac
    if grep -qx -- "$name" "$reserved"; then die "MCP_ENV names $name, which the sandbox reads itself; remove it from MCP_ENV"; fi
    while IFS= read -r pattern; do
      case "$pattern" in '' | '#'*) continue ;; esac
      # shellcheck disable=SC2254 # the pattern is meant as a glob (LD_*)
      case "$name" in $pattern) die "MCP_ENV names $name, which makes a loader, shell or interpreter run code of its choosing; remove it from MCP_ENV" ;; esac
    done <"$loaders"
  done
}

# The settings the entrypoint reads, checked before anything is changed.
check_settings() {
  case "$LOG_LEVEL" in info|debug|none) ;; *) die "LOG_LEVEL '$LOG_LEVEL' is not info, debug or none" ;; esac
  case "${AUTH:-bearer}" in bearer|oauth) ;; *) die "AUTH '$AUTH' is not bearer or oauth" ;; esac
  check_mcp_env "$MCP_ENV" "$SANDBOX_TABLES/reserved-env-names" "$SANDBOX_TABLES/loader-env-names"
  case "${NPM_MCP_ARGS:-}" in *$'\n'*|*$'\r'*) die "NPM_MCP_ARGS must be one line" ;; esac
  case "${MCP_MAX_SESSIONS:-16}" in ''|*[!0-9]*) die "MCP_MAX_SESSIONS must be a whole number" ;; esac
  case "${MCP_SESSION_IDLE:-300}" in ''|*[!0-9]*) die "MCP_SESSION_IDLE must be a whole number of seconds" ;; esac
}

# Empty this (background) subshell's environment but for PATH and the names
# listed in KEEP. Variables are unset here rather than passed to `env`, so that
# no value appears on a command line.
keep_only_env() {
  local keep="$1" var
  for var in $(compgen -e); do
    case " $keep " in *" $var "*) ;; *) unset "$var" ;; esac
  done
  export PATH="$SANDBOX_PATH"
}

# Replace the current (background) subshell with COMMAND run as USER: no
# capability now or ever, no new privileges, and an environment that holds only
# PATH and the names listed in KEEP. Call it as `run_as ... &`.
run_as() {
  local user="$1" keep="$2"
  shift 2
  keep_only_env "$keep"
  exec setpriv --reuid="$user" --regid="$user" --clear-groups \
    --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"
}

# Wait until FILE exists, polling every 0.1 s up to TRIES times; fail at once
# when PID (the process that writes it) has exited. Read from /proc: root here
# has no CAP_KILL, so kill -0 cannot ask about another user's process.
wait_for_file() {
  local file="$1" pid="$2" tries="$3" stat
  while [ "$tries" -gt 0 ]; do
    [ -e "$file" ] && return 0
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [ "${stat%% *}" != Z ] || return 1
    sleep 0.1
    tries=$((tries - 1))
  done
  return 1
}

# The session gateway, which enforces the tool policy and starts the MCP
# servers: it reads only MCP_KEEP_ENV and the names in MCP_ENV; no gateway secret
# is ever among them. It runs as "warden", not as the servers' "mcp", holding
# CAP_SETUID and CAP_SETGID alone (ambient, so they survive the exec of node;
# the bounding set empty, no new privileges): enough to start each server as
# "mcp" and to signal it, nothing else. The servers cannot signal it, read its
# memory or environ, or touch its files (docs/SECURITY.md, "The enforcer").
# Two setpriv: the inheritable set (which ambient capabilities need) can gain
# only what the bounding set still holds, and the second one empties it.
run_session_gateway() {
  local names="${MCP_ENV:-}"
  keep_only_env "$MCP_KEEP_ENV ${names//,/ }"
  load_server_env "$SERVER_ENV_FILE" "$names"
  exec setpriv --inh-caps=-all,+setuid,+setgid -- \
    setpriv --reuid=warden --regid=warden --clear-groups --ambient-caps=-all,+setuid,+setgid \
    --bounding-set=-all --no-new-privs -- "$@"
}

# MCP_DATA: the mount point of the instance's data volume (NAME-data), handed to
# USER once. A new volume is root's, mode 0755: it becomes USER's, mode 0700.
# Only a mount point is touched, never a folder of the image (the read-only root
# would refuse anyway), and only that one inode: no -R, so nothing the server
# put inside (a link included) is ever followed. root holds CHOWN here but no
# FOWNER, so it sets the mode while the folder is still its own.
own_data_folder() {
  local folder="$1" user="$2" owner
  [ -n "$folder" ] || return 0
  case "$folder" in /?*) ;; *) die "MCP_DATA must be an absolute folder, not '$folder'" ;; esac
  mountpoint -q -- "$folder" || die "MCP_DATA=$folder is not a mounted volume: start the container with a volume there (npm run start mounts NAME-data)"
  owner="$(stat -c %u -- "$folder")"
  [ "$owner" = "$(id -u "$user")" ] && return 0
  if [ "$owner" = 0 ]; then chmod 0700 -- "$folder"; fi
  chown -- "$user:$user" "$folder"
}

# MCP_ENV's values, delivered as a file rather than in the container's
# configuration (Config.Env): the entrypoint, every health check and every
# `docker exec` would carry them there. `npm run start` writes the file into the
# instance's volume NAME-server-env (root's, 0700; the file 0600), Compose
# mounts it as a secret. One line a variable, NAME=BASE64 (the value's bytes:
# any character, line breaks included); package_scripts/sandbox/server-env.ts
# writes it. Without the file, MCP_ENV's values come from the environment, as a
# plain `docker run -e` gives them. A variable, not a constant: the fast tests
# point it elsewhere.
SERVER_ENV_FILE=/etc/mcp-sandbox/server-env/env

# The file, checked before anything else runs (no value is read here): a
# regular file that neither "mcp" nor "gateway" owns and nobody else may read.
check_server_env_file() {
  local file="$1" owner mode
  [ -e "$file" ] || return 0
  [ -f "$file" ] || die "$file (the MCP server's variables) is not a regular file"
  owner="$(stat -L -c %u -- "$file")"
  mode="$(stat -L -c %a -- "$file")"
  if [ "$owner" = "$(id -u mcp)" ] || [ "$owner" = "$(id -u gateway)" ]; then
    die "$file (the MCP server's variables) belongs to uid $owner, a user of the sandbox; it must be root's, or the file owner's on the host (mode 0600)"
  fi
  (((8#$mode & 8#077) == 0)) || die "$file (the MCP server's variables) has mode $mode; only its owner may read it (0600 or 0400)"
}

# The file's text, read as its owner: root's file (npm run start) directly, a
# Compose secret (bound from the host, owned by the host's user) through
# setpriv, since root here has no CAP_DAC_OVERRIDE. Nothing on a command line.
server_env_text() {
  local file="$1" owner group
  owner="$(stat -L -c %u -- "$file")"
  group="$(stat -L -c %g -- "$file")"
  if [ "$owner" = "$(id -u)" ]; then
    cat -- "$file"
  else
    setpriv --reuid="$owner" --regid="$group" --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- cat -- "$file"
  fi
}

# Into this (background) subshell's environment, for the session gateway it
# becomes: the file's variables, each one listed in MCP_ENV (anything else
# stops the container). The file's values replace the environment's.
load_server_env() {
  local file="$1" list="$2" text line name value
  [ -e "$file" ] || return 0
  for name in ${list//,/ }; do unset "$name"; done
  text="$(server_env_text "$file")" || die "could not read $file (the MCP server's variables)"
  while [ -n "$text" ]; do
    line="${text%%$'\n'*}"
    if [[ "$text" == *$'\n'* ]]; then text="${text#*$'\n'}"; else text=''; fi
    [ -n "$line" ] || continue
    [[ "$line" =~ ^([A-Za-z_][A-Za-z0-9_]*)=([A-Za-z0-9+/]*={0,2})$ ]] || die "$file: a line is not NAME=BASE64; write the file again with npm run start or npm run export"
    name="${BASH_REMATCH[1]}"
    case ",$list," in *",$name,"*) ;; *) die "$file sets $name, which MCP_ENV does not list" ;; esac
    # The sentinel keeps a value's trailing line breaks, which $( ) would strip.
    value="$(printf '%s' "${BASH_REMATCH[2]}" | base64 -d && printf x)" || die "$file: the value of $name is not base64"
    export "$name=${value%x}"
  done
}
