# shellcheck shell=bash
# Sourced by hosts.sh: the addresses AWS gives an instance, and its security groups.
#   - private address: on the host's eth0 (10.21X.0.0/24), reachable host to host over the bridge;
#   - public address (198.18.X.0/24): exists only as 1:1 NAT in the root namespace, for the runner
#     and for hosts that dial a public address (they arrive with the sender's public address);
#   - the runner's traffic comes from RUNNER_IP; it cannot SSH a private address;
#   - security groups: a stateful, default-drop ingress filter in each host's mangle PREROUTING;
#   - partitions: an nft bridge table in the root namespace drops a host's frames both ways.
# Uses ID, NET, BR, BRIP, PFX, STATE, TAG, HJ and die/log from hosts.sh.

PUB=198.18.$ID # benchmarking range (RFC 2544): never routed, and not a documentation range
RUNNER_IP=$PUB.1
CHAIN=ASW$ID   # root-namespace nat chains: $CHAIN-DNAT (public -> private), $CHAIN-SNAT
NFT_TABLE=asw$ID
SG_CHAIN=AWS-SECURITY-GROUPS # in each host's mangle table

# iptables_once TABLE CHAIN RULE...: appends RULE (tagged with this harness's comment) unless present.
iptables_once() {
  local table=$1 chain=$2
  shift 2
  iptables -t "$table" -C "$chain" "$@" -m comment --comment "$TAG" 2>/dev/null ||
    iptables -t "$table" -A "$chain" "$@" -m comment --comment "$TAG"
}

# The runner's public address, the NAT chains and their jumps, the partition table; idempotent.
# HARNESS_PRIVATE_SSH=allow keeps the runner able to SSH private addresses: only for callers that
# still dial the deprecated `ip` (= privateIp), until they use publicIp.
ensure_public() {
  ip addr replace "$RUNNER_IP/32" dev "$BR"
  ip route replace "$PUB.0/24" dev "$BR" src "$RUNNER_IP"
  # Hosts dialing a public address send it to the bridge, which must route it (only this bridge).
  sysctl -qw "net.ipv4.conf.$BR.forwarding=1"
  printf '*nat\n:%s-DNAT - [0:0]\n:%s-SNAT - [0:0]\nCOMMIT\n' "$CHAIN" "$CHAIN" | iptables-restore --noflush
  iptables_once nat PREROUTING -d "$PUB.0/24" -j "$CHAIN-DNAT"
  iptables_once nat OUTPUT -d "$PUB.0/24" -j "$CHAIN-DNAT"
  iptables_once nat POSTROUTING -s "$NET.0/24" -j "$CHAIN-SNAT"
  if [[ ${HARNESS_PRIVATE_SSH:-reject} != allow ]]; then
    # ctorigdst: SSH to a public address is DNATed to the private one, and that must still pass.
    iptables_once filter OUTPUT -p tcp --dport 22 -m conntrack --ctorigdst "$NET.0/24" -j REJECT --reject-with tcp-reset
  fi
  if ! nft list table bridge "$NFT_TABLE" >/dev/null 2>&1; then
    nft -f - <<EOF
table bridge $NFT_TABLE {
  set partitioned { type ifname; }
  chain pre { type filter hook prerouting priority -300; iifname @partitioned drop; }
  chain post { type filter hook postrouting priority 300; oifname @partitioned drop; }
}
EOF
  fi
}

# sync_nat: the 1:1 NAT rules from hosts.json (hosts and the load balancer stand-in), replaced in one iptables-restore transaction.
# SNAT only for DNATed connections: a host dialing a public address arrives with its own public
# address (as on AWS), a host dialing a private address keeps its private source.
sync_nat() {
  local rules
  rules=$(jq -r --arg c "$CHAIN" '(.hosts[], (.loadBalancer // empty)) |
    "-A \($c)-DNAT -d \(.publicIp)/32 -j DNAT --to-destination \(.privateIp)",
    "-A \($c)-SNAT -s \(.privateIp)/32 -m conntrack --ctstate DNAT -j SNAT --to-source \(.publicIp)"' "$HJ")
  printf '*nat\n:%s-DNAT - [0:0]\n:%s-SNAT - [0:0]\n%s\nCOMMIT\n' "$CHAIN" "$CHAIN" "$rules" | iptables-restore --noflush
}

remove_public() {
  local table chain
  for table in nat filter; do
    iptables -t "$table" -S | { grep -F -- "--comment $TAG " || true; } | sed 's/^-A /-D /' | while read -r rule; do
      # shellcheck disable=SC2086 # the rule is a word list as printed by iptables -S
      iptables -t "$table" $rule
    done
  done
  for chain in "$CHAIN-DNAT" "$CHAIN-SNAT"; do
    iptables -t nat -F "$chain" 2>/dev/null || true
    iptables -t nat -X "$chain" 2>/dev/null || true
  done
  nft delete table bridge "$NFT_TABLE" 2>/dev/null || true
}

# alloc_public: the next public address no host holds (round robin, so a released one is reused last).
alloc_public() {
  local used next i s
  used=$(jq -r '.hosts[].publicIp, (.loadBalancer.publicIp // empty)' "$HJ")
  next=$(cat "$STATE/next-public")
  for ((i = 0; i < 244; i++)); do
    s=$(((next - 10 + i) % 244 + 10))
    if ! grep -qxF "$PUB.$s" <<<"$used"; then
      echo $((s + 1)) >"$STATE/next-public"
      echo "$PUB.$s"
      return 0
    fi
  done
  die "no free public address in $PUB.0/24"
}

# FIREWALL_JQ: jq definitions; `sg_lines($c)` turns one host's security-group ingress rules (its
# input, a JSON array) into iptables-restore lines for chain $c, and fails on invalid rules.
# protocol "-1" = all (ports ignored); tcp/udp (or 6/17): fromPort..toPort; icmp (or 1): fromPort =
# type, toPort = code, -1 = any; another number: that IP protocol (e.g. 50 = ESP). IPv6 sources
# are skipped (the hosts have no IPv6).
# shellcheck disable=SC2016 # jq's own $variables
FIREWALL_JQ='
  def port: if type == "number" and . >= -1 and . <= 65535 and floor == . then . else error("bad port \(.)") end;
  def ports: (.fromPort // -1 | port) as $f | (.toPort // -1 | port) as $t |
    if $f == -1 then "" elif $f == $t then " --dport \($f)" else " --dport \($f):\($t)" end;
  def icmp: (.fromPort // -1 | port) as $f | (.toPort // -1 | port) as $t |
    if $f == -1 then "" elif $t == -1 then " --icmp-type \($f)" else " --icmp-type \($f)/\($t)" end;
  def proto: (.protocol | tostring | ascii_downcase) as $p |
    if $p == "-1" or $p == "all" then ""
    elif $p == "tcp" or $p == "6" then " -p tcp" + ports
    elif $p == "udp" or $p == "17" then " -p udp" + ports
    elif $p == "icmp" or $p == "1" then " -p icmp" + icmp
    elif ($p | test("^[0-9]{1,3}$")) then " -p \($p)"
    else error("unknown protocol \($p)") end;
  def sg_lines($c):
    if type != "array" then error("rules must be a JSON array") else . end |
    "-A \($c) -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
    # What IPsec decrypted was already let in as ESP; AWS never sees inside it.
    "-A \($c) -m policy --dir in --pol ipsec -j RETURN",
    (.[] | proto as $m | (.sources // [])[] |
      if test(":") then empty
      elif test("^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$") then "-A \($c) -s \(.)\($m) -j RETURN"
      else error("bad source \(.)") end),
    "-A \($c) -j DROP";
'

# firewall_rules: the rules (JSON on stdin) as iptables-restore lines.
firewall_rules() {
  jq -r --arg c "$SG_CHAIN" "$FIREWALL_JQ"' sg_lines($c)'
}

# load_firewall NAME LINES: makes LINES (from sg_lines) the host's filter, atomically; nothing when
# the host is not running (its stored rules are loaded at boot).
load_firewall() {
  local ns=/run/netns/$PFX-$1
  [[ -e $ns ]] || return 0
  printf '*mangle\n:%s - [0:0]\n%s\nCOMMIT\n' "$SG_CHAIN" "$2" | nsenter --net="$ns" iptables-restore --noflush
  # mangle PREROUTING on eth0: before Docker's nat DNAT of published ports (FORWARD, not INPUT), and
  # in no table Docker manages, so nothing in the host bypasses it.
  nsenter --net="$ns" iptables -t mangle -C PREROUTING -i eth0 -j "$SG_CHAIN" 2>/dev/null ||
    nsenter --net="$ns" iptables -t mangle -I PREROUTING 1 -i eth0 -j "$SG_CHAIN"
}

# apply_firewall NAME: loads the host's stored rules (if any) into its namespace, atomically.
apply_firewall() {
  local ns=/run/netns/$PFX-$1 file=$STATE/$1/firewall.json
  [[ -f $file && -e $ns ]] || return 0
  load_firewall "$1" "$(firewall_rules <"$file")"
}

# store_firewall NAME RULES_JSON: kept across reboots and stops, loaded at boot.
store_firewall() {
  printf '%s\n' "$2" >"$STATE/$1/firewall.json.tmp"
  mv "$STATE/$1/firewall.json.tmp" "$STATE/$1/firewall.json"
}

# firewall NAME < rules.json: replaces the host's ingress filter; kept across reboots and stops.
cmd_firewall() {
  local name=${1:-} rules lines
  require_host "$name"
  rules=$(cat)
  lines=$(firewall_rules <<<"$rules") || die "invalid firewall rules for $name (see above)"
  store_firewall "$name" "$rules"
  load_firewall "$name" "$lines"
}

# firewall-many < {"NAME": rules, ...}: `firewall` for several hosts in one call (one jq for all:
# a security group change reaches all its members at once). All are checked before any changes.
cmd_firewall_many() {
  [[ -f $HJ ]] || die "harness $ID is not up"
  local out line name=""
  # One record per host: "@host NAME", "@json RULES", then its iptables-restore lines.
  out=$(jq -r --arg c "$SG_CHAIN" --slurpfile hj "$HJ" "$FIREWALL_JQ"'
    if type != "object" then error("firewall-many wants an object: host name -> rules") else . end |
    [$hj[0].hosts[].name] as $names |
    to_entries[] | .key as $k |
    if any($names[]; . == $k) then . else error("no host \($k) in harness") end |
    "@host \($k)", "@json \(.value | tojson)", (.value | sg_lines($c))') ||
    die "invalid firewall rules (see above); no host's filter was changed"
  local -A json=() lines=()
  while IFS= read -r line; do
    [[ -n $line ]] || continue # no hosts: one empty line
    case $line in
      "@host "*) name=${line#@host } && lines[$name]="" ;;
      "@json "*) json[$name]=${line#@json } ;;
      *) lines[$name]+=$line$'\n' ;;
    esac
  done <<<"$out"
  for name in "${!json[@]}"; do
    store_firewall "$name" "${json[$name]}"
    load_firewall "$name" "${lines[$name]%$'\n'}"
  done
}

cmd_partition() {
  require_host "${1:-}"
  nft add element bridge "$NFT_TABLE" partitioned "{ \"$PFX-$1\" }"
  set_host "$1" '.partitioned = true'
}

cmd_heal() {
  require_host "${1:-}"
  nft delete element bridge "$NFT_TABLE" partitioned "{ \"$PFX-$1\" }" 2>/dev/null || true
  set_host "$1" '.partitioned = false'
}
