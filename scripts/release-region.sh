#!/bin/bash
# magento-dr: one region's part of a release (docs/release.md). Run by .github/workflows/release.yml
# with the region's publisher role; RELEASE_TARGET is the stack's `releaseTarget` export (JSON).
#
#   release-region.sh publish  ARTIFACT VERSION SHA256 [REPLICA_WAIT_SECONDS]
#   release-region.sh upgrade  VERSION           # setup:upgrade, only if this region is active
#   release-region.sh rollout  VERSION SHA256    # set the version parameter, see the refresh through
#
# Order guarantees: `rollout` re-checks that this region's bucket holds the artifact before it
# changes the version parameter, and the instance refresh starts only from that change.
set -euo pipefail

: "${RELEASE_TARGET:?set RELEASE_TARGET to the stack output releaseTarget (JSON)}"
target() { jq -er --arg k "$1" '.[$k]' <<<"$RELEASE_TARGET"; }
REGION=$(target region)
BUCKET=$(target bucket)
export AWS_DEFAULT_REGION=$REGION
VERSION_PATTERN='^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'
REFRESH_WAIT_SECONDS=${REFRESH_WAIT_SECONDS:-180}   # EventBridge delivers the change event best effort
ROLLOUT_TIMEOUT_SECONDS=${ROLLOUT_TIMEOUT_SECONDS:-3600}

log() { echo "[$REGION] $*" >&2; }
output() { if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1" >> "$GITHUB_OUTPUT"; fi; }
check_version() { [[ "$1" =~ $VERSION_PATTERN ]] && [ "$1" != none ] || { log "bad release version '$1'"; exit 2; }; }
key_of() { echo "releases/$1.tar.zst"; }

# The sha256 recorded on the object in this region's bucket ("" if absent).
stored_sha256() {
  aws s3api head-object --bucket "$BUCKET" --key "$(key_of "$1")" --query 'Metadata.sha256' --output text 2>/dev/null \
    | grep -E '^[0-9a-f]{64}$' || true
}

publish() {
  local artifact=$1 version=$2 sha=$3 wait=${4:-0} deadline
  check_version "$version"
  [ "$(sha256sum "$artifact" | cut -d' ' -f1)" = "$sha" ] || { log "$artifact does not match $sha"; exit 1; }
  deadline=$((SECONDS + wait))
  while [ "$(stored_sha256 "$version")" != "$sha" ] && [ "$SECONDS" -lt "$deadline" ]; do
    log "waiting for replication of $(key_of "$version") (RTC: 15 minutes)"
    sleep 20
  done
  if [ "$(stored_sha256 "$version")" != "$sha" ]; then
    log "uploading $(key_of "$version") to $BUCKET"
    aws s3api put-object --bucket "$BUCKET" --key "$(key_of "$version")" --body "$artifact" \
      --metadata "sha256=$sha" --checksum-algorithm SHA256 >/dev/null
  fi
  [ "$(stored_sha256 "$version")" = "$sha" ] || { log "artifact not verifiable in $BUCKET"; exit 1; }
  log "$BUCKET holds $(key_of "$version") ($sha)"
}

upgrade() {
  local version=$1 active instance command status
  check_version "$version"
  active=$(aws ssm get-parameter --name "$(target activeParameter)" --query Parameter.Value --output text)
  if [ "$active" != "true" ]; then
    log "standby region (active=$active): setup:upgrade runs in the active region only"
    output "ran=false"
    return 0
  fi
  instance=$(aws ec2 describe-instances \
    --filters "Name=tag:$(target instanceTagKey),Values=$(target instanceTagValue)" "Name=instance-state-name,Values=running" \
    --query 'sort_by(Reservations[].Instances[], &LaunchTime)[0].InstanceId' --output text)
  [ -n "$instance" ] && [ "$instance" != None ] || { log "no running web instance"; exit 1; }
  command=$(aws ssm send-command --document-name "$(target setupUpgradeDocument)" --instance-ids "$instance" \
    --parameters "Version=$version" --comment "magento-dr release $version" --query Command.CommandId --output text)
  log "setup:upgrade for $version on $instance (command $command)"
  while :; do
    status=$(aws ssm get-command-invocation --command-id "$command" --instance-id "$instance" --query Status --output text 2>/dev/null || echo Pending)
    case "$status" in
      Success) break ;;
      Failed | Cancelled | TimedOut | Cancelling) log "setup:upgrade $status"; exit 1 ;;
      *) sleep 15 ;;
    esac
  done
  output "ran=true"
}

latest_refresh() {
  aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$(target asgName)" --max-records 1 \
    --query 'InstanceRefreshes[0].[InstanceRefreshId,Status,StartTime]' --output text
}

rollout() {
  local version=$1 sha=$2 before id status deadline
  check_version "$version"
  # The version parameter changes only once this region's bucket holds the verified artifact.
  [ "$(stored_sha256 "$version")" = "$sha" ] || { log "$BUCKET lacks $(key_of "$version"); not rolling out"; exit 1; }
  before=$(latest_refresh | cut -f1)
  aws ssm put-parameter --name "$(target versionParameter)" --value "$version" --type String --overwrite >/dev/null
  log "$(target versionParameter) = $version"
  deadline=$((SECONDS + REFRESH_WAIT_SECONDS))
  id=$(latest_refresh | cut -f1)
  while [ "$id" = "$before" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 10; id=$(latest_refresh | cut -f1); done
  if [ "$id" = "$before" ]; then
    log "no refresh followed the parameter change; starting it"
    id=$(aws autoscaling start-instance-refresh --auto-scaling-group-name "$(target asgName)" --strategy Rolling \
      --preferences '{"MinHealthyPercentage":100,"MaxHealthyPercentage":200,"SkipMatching":false}' \
      --query InstanceRefreshId --output text)
  fi
  deadline=$((SECONDS + ROLLOUT_TIMEOUT_SECONDS))
  while :; do
    status=$(latest_refresh | cut -f2)
    case "$status" in
      Successful) log "every instance runs $version"; return 0 ;;
      Failed | Cancelled | RollbackSuccessful | RollbackFailed) log "instance refresh $id $status"; exit 1 ;;
    esac
    [ "$SECONDS" -lt "$deadline" ] || { log "instance refresh $id still $status"; exit 1; }
    sleep 30
  done
}

case "${1:-}" in
  publish) shift; publish "$@" ;;
  upgrade) shift; upgrade "$@" ;;
  rollout) shift; rollout "$@" ;;
  *) echo "usage: $0 publish|upgrade|rollout ..." >&2; exit 2 ;;
esac
