#!/usr/bin/env bash
# A server's certificates: the wildcard certificate (tls.mode wildcard) obtained and renewed with
# Debian's lego through DNS-01, and a daily record of every certificate's expiry for `npm run status`.
#   tls-certificate.sh install SERVER  settings on stdin (KEY=VALUE lines, core/tls.ts; the DNS token
#                                      among them): stored root-only, the daily timer installed, then
#                                      `renew` run once (a first certificate must be obtained, or it fails)
#   tls-certificate.sh renew           (timer) wildcard: lego renew when fewer than RENEW_DAYS are left,
#                                      the new files put live and Caddy reloaded only when they changed;
#                                      a failure keeps the certificate in use. Always: write status.json
#   tls-certificate.sh record          write status.json only (no ACME call)
#   tls-certificate.sh remove          timer, units and the stored settings removed; certificates kept
# Secrets: the token is only in $SETTINGS (0600 root) and lego's environment, never in argv, output
# or status.json. Nothing here prints the settings.
set -euo pipefail

ETC=${OPENCLAW_TLS_ETC:-/etc/openclaw-hosting/tls}
# Its own folder, 0755: Caddy (user caddy) must reach live/ (0750 root:caddy); lego/ stays 0700.
STATE=${OPENCLAW_TLS_STATE:-/var/lib/openclaw-tls}
SETTINGS=$ETC/settings
STATUS=$STATE/status.json
LIVE=$STATE/live
LEGO_DIR=$STATE/lego
INSTALLED=${OPENCLAW_TLS_INSTALLED:-/usr/local/lib/openclaw-hosting/tls-certificate.sh}
UNIT=/etc/systemd/system/openclaw-tls-renew
SERVER=${2:-this server}

die() { echo "openclaw-hosting: certificates on server '$SERVER': $*" >&2; exit 1; }
have_systemd() { [ -z "${OPENCLAW_TLS_NO_SYSTEMD:-}" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
if [ "$(id -u)" != 0 ] && [ -z "${OPENCLAW_TLS_ETC:-}" ]; then exec sudo -n bash "$0" "$@"; fi
umask 077

# Only these keys are read from the settings, and values may not hold a quote, space or `$`: the
# file is parsed here, never sourced.
KEYS="MODE DOMAIN ACME_SERVER ACME_EMAIL RENEW_DAYS CADDYFILE CADDY_ADMIN CADDY_STORAGE DNS_PROVIDER DNS_RESOLVERS DNS_DISABLE_CP CLOUDFLARE_DNS_API_TOKEN EXEC_PATH LEGO_CA_CERTIFICATES"
read_settings() {
  local line key value
  while IFS= read -r line || [ -n "$line" ]; do
    [ -z "$line" ] && continue
    key=${line%%=*}; value=${line#*=}
    case " $KEYS " in *" $key "*) ;; *) die "unknown setting '${key:0:40}'";; esac
    case $value in *[[:space:]\'\"\$\`\\]*) die "setting $key holds a space, quote, \$, backtick or backslash";; esac
    printf -v "$key" '%s' "$value"
    export "${key?}"
  done <"$1"
}

iso() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
not_after() { iso "$(openssl x509 -enddate -noout -in "$1" | cut -d= -f2)"; }
serial() { openssl x509 -serial -noout -in "$1" | cut -d= -f2; }
# Error text for status.json: printable, no quotes or backslashes, short, and never the token.
clean() {
  local text=$1
  if [ -n "${CLOUDFLARE_DNS_API_TOKEN:-}" ]; then text=${text//"$CLOUDFLARE_DNS_API_TOKEN"/[token]}; fi
  printf '%s' "$text" | tr -c 'A-Za-z0-9 .,:;_/()<>=+*@#%-' ' ' | cut -c1-300
}

# status.json: every certificate this server serves and its expiry, and the last renewal.
# RENEWAL_* come from `renew` (absent: kept from the previous record).
write_status() {
  local tmp entries=() f name
  mkdir -p "$STATE"; chmod 0755 "$STATE"
  if [ "${MODE:-perTenant}" = wildcard ] && [ -f "$LIVE/wildcard.crt" ]; then
    entries+=("{\"name\":\"*.$DOMAIN\",\"source\":\"lego\",\"notAfter\":\"$(not_after "$LIVE/wildcard.crt")\",\"serial\":\"$(serial "$LIVE/wildcard.crt")\"}")
  fi
  # A certificate that cannot be read is left out (the record never stops an apply or the timer), and
  # so are those of Caddy's internal CA (localCerts: 12-hour certificates Caddy renews itself).
  if [ -n "${CADDY_STORAGE:-}" ] && [ -d "$CADDY_STORAGE/certificates" ] && command -v openssl >/dev/null 2>&1; then
    local end sn
    while IFS= read -r f; do
      name=$(basename "$f" .crt)
      case $name in *[!A-Za-z0-9.*_-]*) continue;; esac
      end=$(not_after "$f" 2>/dev/null) && sn=$(serial "$f" 2>/dev/null) || continue
      entries+=("{\"name\":\"$name\",\"source\":\"caddy\",\"notAfter\":\"$end\",\"serial\":\"$sn\"}")
    done < <(find "$CADDY_STORAGE/certificates" -mindepth 3 -maxdepth 3 -name '*.crt' -type f -not -path '*/certificates/local/*' 2>/dev/null | sort)
  fi
  local renewal=null
  if [ -n "${RENEWAL_RESULT:-}" ]; then
    renewal="{\"at\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"ok\":$([ "$RENEWAL_RESULT" = ok ] && echo true || echo false),\"error\":$([ -n "${RENEWAL_ERROR:-}" ] && printf '"%s"' "$(clean "$RENEWAL_ERROR")" || echo null)}"
  elif [ -f "$STATUS" ]; then
    renewal=$(sed -n 's/.*"renewal":\({[^}]*}\|null\).*/\1/p' "$STATUS" | head -n1)
    [ -n "$renewal" ] || renewal=null
  fi
  local IFS=,
  tmp=$(mktemp "$STATE/.status.XXXXXX")
  printf '{"version":1,"server":"%s","mode":"%s","checkedAt":"%s","certificates":[%s],"renewal":%s}\n' \
    "$(clean "$SERVER")" "${MODE:-perTenant}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${entries[*]}" "$renewal" >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$STATUS"
}

# Caddy reads `tls <cert> <key>` files when its config loads, so new files need one reload; --force
# reloads the same Caddyfile. Only after a renewal changed the files (every ~60 days).
reload_caddy() {
  local admin=${CADDY_ADMIN%|*}
  case $admin in unix/*) admin="unix/${admin#unix/}";; esac
  timeout 60 caddy reload --config "$CADDYFILE" --adapter caddyfile --address "$admin" --force >/dev/null 2>"$STATE/.reload.log"
}

# lego's certificate for *.DOMAIN (lego names the files after the domain, `*` as `_`).
lego_cert() { echo "$LEGO_DIR/certificates/_.$DOMAIN.crt"; }
lego_key() { echo "$LEGO_DIR/certificates/_.$DOMAIN.key"; }

# Puts lego's files live (atomically, key readable by Caddy's group) when they differ from the live ones.
# Prints "changed" when it did.
go_live() {
  mkdir -p "$LIVE"; chmod 0750 "$LIVE"
  if [ -f "$LIVE/wildcard.crt" ] && cmp -s "$(lego_cert)" "$LIVE/wildcard.crt" && cmp -s "$(lego_key)" "$LIVE/wildcard.key"; then return 0; fi
  local group=root
  if getent group caddy >/dev/null 2>&1; then group=caddy; fi
  chgrp "$group" "$LIVE"
  install -m 0640 -g "$group" "$(lego_key)" "$LIVE/.wildcard.key.new"
  install -m 0644 -g "$group" "$(lego_cert)" "$LIVE/.wildcard.crt.new"
  mv -f "$LIVE/.wildcard.key.new" "$LIVE/wildcard.key"
  mv -f "$LIVE/.wildcard.crt.new" "$LIVE/wildcard.crt"
  echo changed
}

renew() {
  [ -f "$SETTINGS" ] || die "no settings at $SETTINGS (run pulumi up)"
  read_settings "$SETTINGS"
  if [ "${MODE:-perTenant}" != wildcard ]; then write_status; return 0; fi
  mkdir -p "$LEGO_DIR"; chmod 0700 "$LEGO_DIR"
  local args=(--accept-tos --path "$LEGO_DIR" --server "$ACME_SERVER" --dns "$DNS_PROVIDER" --domains "*.$DOMAIN" --key-type ec256)
  [ -n "${ACME_EMAIL:-}" ] && args+=(--email "$ACME_EMAIL")
  [ -n "${DNS_RESOLVERS:-}" ] && args+=(--dns.resolvers "$DNS_RESOLVERS")
  [ "${DNS_DISABLE_CP:-}" = true ] && args+=(--dns.disable-cp)
  local action=(run) out rc=0
  # Renew only a certificate lego has for this same domain from this same ACME server (a stack moved
  # from the staging directory to production gets a production certificate now, not in 60 days).
  if [ -f "$(lego_cert)" ] && [ "$(cat "$LEGO_DIR/acme-server" 2>/dev/null)" = "$ACME_SERVER" ]; then action=(renew --days "$RENEW_DAYS" --no-random-sleep); fi
  out=$(timeout 600 lego "${args[@]}" "${action[@]}" 2>&1) || rc=$?
  # lego's log goes to the journal (the timer's service) or the install's stderr; it holds no token.
  if [ -n "${CLOUDFLARE_DNS_API_TOKEN:-}" ]; then out=${out//"$CLOUDFLARE_DNS_API_TOKEN"/[token]}; fi
  printf '%s\n' "$out" | tail -n 20 >&2
  if [ "$rc" != 0 ]; then
    RENEWAL_RESULT=failed RENEWAL_ERROR="lego ${action[0]} exited $rc: $(printf '%s\n' "$out" | grep -v '^\s*$' | tail -n 1)" write_status
    [ -f "$LIVE/wildcard.crt" ] && { echo "openclaw-hosting: renewal failed; the certificate in use is kept (see $STATUS)" >&2; return 1; }
    die "no certificate for *.$DOMAIN could be obtained from $ACME_SERVER (lego exited $rc); Caddy's config was not changed"
  fi
  printf '%s\n' "$ACME_SERVER" >"$LEGO_DIR/acme-server"
  if [ "$(go_live)" = changed ] && [ -n "${CADDY_ADMIN:-}" ] && [ -f "${CADDYFILE:-/nonexistent}" ]; then
    # A Caddyfile that does not name the files yet (first install) loads them with the edge's reload.
    if grep -qF "$LIVE/wildcard.crt" "$CADDYFILE" && ! reload_caddy; then
      RENEWAL_RESULT=failed RENEWAL_ERROR="renewed, but Caddy did not reload: $(tail -n 1 "$STATE/.reload.log" 2>/dev/null)" write_status
      return 1
    fi
  fi
  RENEWAL_RESULT=ok RENEWAL_ERROR= write_status
}

install_units() {
  [ -d "$(dirname "$INSTALLED")" ] || mkdir -p -m 0755 "$(dirname "$INSTALLED")"
  install -m 0755 "$0" "$INSTALLED"
  have_systemd || return 0
  cat >"$UNIT.service" <<EOF
[Unit]
Description=openclaw-hosting: renew the wildcard certificate and record certificate expiry
After=network-online.target caddy.service
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=/bin/bash $INSTALLED renew
EOF
  cat >"$UNIT.timer" <<EOF
[Unit]
Description=openclaw-hosting: daily certificate renewal and record

[Timer]
OnCalendar=daily
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
EOF
  chmod 0644 "$UNIT.service" "$UNIT.timer"
  systemctl daemon-reload
  systemctl enable --now openclaw-tls-renew.timer >/dev/null 2>&1 || die "could not enable openclaw-tls-renew.timer"
}

case ${1:-} in
  install)
    mkdir -p "$ETC"; chmod 0700 "$ETC"
    tmp=$(mktemp "$ETC/.settings.XXXXXX")
    cat >"$tmp"
    chmod 0600 "$tmp"
    mv -f "$tmp" "$SETTINGS"
    install_units
    renew
    ;;
  renew) renew ;;
  record)
    read_settings "$SETTINGS"; write_status ;;
  remove)
    if have_systemd; then
      systemctl disable --now openclaw-tls-renew.timer >/dev/null 2>&1 || true
      rm -f "$UNIT.service" "$UNIT.timer"
      systemctl daemon-reload
    fi
    rm -f "$SETTINGS" "$INSTALLED"
    ;;
  *) echo "usage: tls-certificate.sh install SERVER | renew | record | remove" >&2; exit 64 ;;
esac
