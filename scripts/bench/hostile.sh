#!/usr/bin/env bash
# Hostile probes of seqmodels (issue #23): kills between the steps of a save, leftovers of
# crashed runs, corrupt and special files as parts, another kind of model in --out, two runs on
# one --out, Ctrl-C, a full disk; one huge input (a 200 MB line on stdin, a 10 MB CSV field, a
# 100 MB token and a lying header in a vector file), which must cost memory bounded by
# --max-line-bytes and the models, not by the input; and the fuzz tests (tests/fuzz.rs) with
# many more cases than the default suite runs. One line per probe: PASS or FAIL, its name, the
# exit status and peak RSS of the command it probes, and what it saw.
#
#   scripts/bench/hostile.sh [SEQMODELS_BINARY]
#   FUZZ_CASES=5000 scripts/bench/hostile.sh     # cases per fuzzed reader (default 1000; 0 skips)
#
# Needs only bash and coreutils; uses /usr/bin/time for peak RSS (else /proc), strace for syscall
# fault injection and unshare + a tmpfs for the full disk where present (those probes say
# "skip" otherwise), and cargo for the fuzz tests. Generated data (at most 200 MB of temporary
# files at a time, for the huge inputs); about a minute and a half on two cores once the fuzz
# tests are built (1,000 cases per reader take under a minute). Exits 1 if a probe fails. The
# binary defaults to target/release/seqmodels (built if missing).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${1:-$root/target/release/seqmodels}"
if [ ! -x "$bin" ]; then
    (cd "$root" && cargo build --release --quiet) || exit 1
fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
work="$(mktemp -d)"
bg=""
trap '[ -n "$bg" ] && kill -9 "$bg" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work" || exit 1
failed=0

# measure CMD...: runs CMD (its output in out/err, its input the file $input, else nothing),
# setting $code and $peak (MB).
measure() {
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%M' -o rss "$@" <"${input:-/dev/null}" >out 2>err
        code=$?
        peak=$(($(tail -n 1 rss) / 1024))
    else
        "$@" <"${input:-/dev/null}" >out 2>err &
        local pid=$! hwm=0 v
        while kill -0 "$pid" 2>/dev/null; do
            v=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null)
            [ -n "$v" ] && hwm=$v
            sleep 0.02
        done
        wait "$pid"
        code=$?
        peak=$((hwm / 1024))
    fi
}

# verdict NAME OK WHAT: one line; OK is 0 for a pass.
verdict() {
    local word=PASS
    if [ "$2" != 0 ]; then
        word=FAIL
        failed=1
    fi
    printf '%s  %-30s exit %3s  peak %5s MB  %s\n' "$word" "$1" "$code" "$peak" "$3"
    if [ "$word" = FAIL ]; then sed 's/^/      | /' err | tail -n 5; fi
}

skip() { printf 'skip  %-30s %s\n' "$1" "$2"; }

has() { grep -qF -- "$1" "${2:-err}"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
hidden() { ls -A "$1" | grep '^\.' | tr '\n' ' '; }

# Data: names over ten letters (each letter in the first lines, so any held-out split works).
{
    for _ in 1 2 3 4; do echo abcdefghij; done
    awk 'BEGIN { srand(7); for (i = 0; i < 300; i++) { n = 3 + int(rand() * 6); s = "";
        for (j = 0; j < n; j++) s = s substr("abcdefghij", 1 + int(rand() * 10), 1); print s } }'
} >names.txt
# A tiny character model, one epoch: "${tiny[@]}" --out OUT --seed SEED [more options]
tiny=("$bin" -q --threads 1 charlm train --data names.txt --embed 4 --hidden 8 --epochs 1)
train() { "${tiny[@]}" --out "$1" --seed "$2" "${@:3}" >/dev/null 2>&1; }
loads() { "$bin" charlm sample --model "$1" -n 2 --seed 1 >/dev/null 2>&1; }
train new-model 2
new=$(sha new-model/model.safetensors)

# 1-3: the SEQMODELS_FAILPOINT test hook kills the save between two of its steps.
for probe in "kill-before-the-swap save-written old" \
    "kill-after-the-exchange save-exchanged new" \
    "kill-between-renames save-no-exchange,save-moved-aside old"; do
    set -- $probe
    rm -rf m && train m 1
    old=$(sha m/model.safetensors)
    SEQMODELS_FAILPOINT="$2" measure "${tiny[@]}" --out m --seed 2
    left=$(hidden .)
    loads m
    loaded=$?
    got=$(sha m/model.safetensors 2>/dev/null)
    want=$old
    [ "$3" = new ] && want=$new
    train m 3
    after=$(hidden .)
    ok=1
    [ "$code" = 137 ] && [ -n "$left" ] && [ "$loaded" = 0 ] && [ "$got" = "$want" ] \
        && [ -z "$after" ] && ok=0
    verdict "$1" $ok "killed; left ${left:-nothing}; loads the $3 model; next run left ${after:-nothing}"
done

# 4-5: the same with strace's syscall fault injection: the exchange refused (EINVAL, as some
# filesystems do), then a SIGKILL at the second rename of the fallback (the failure of #23).
if command -v strace >/dev/null; then
    rm -rf m && train m 1
    measure strace -f -o /dev/null -e trace=renameat2 -e inject=renameat2:error=EINVAL \
        "$bin" -q --threads 1 charlm train --data names.txt --out m --embed 4 --hidden 8 \
        --epochs 1 --seed 2
    ok=1
    [ "$code" = 0 ] && [ "$(sha m/model.safetensors)" = "$new" ] && [ -z "$(hidden .)" ] && ok=0
    verdict strace-exchange-refused $ok "the fallback saved the new model, nothing left"
    rm -rf m && train m 1
    old=$(sha m/model.safetensors)
    measure strace -f -o /dev/null -e trace=renameat2,rename -e inject=renameat2:error=EINVAL \
        -e inject=rename:signal=KILL:when=2 "$bin" -q --threads 1 charlm train \
        --data names.txt --out m --embed 4 --hidden 8 --epochs 1 --seed 2
    gone=no
    [ -e m ] || gone=yes
    loads m
    loaded=$?
    ok=1
    [ "$code" = 137 ] && [ "$loaded" = 0 ] && [ "$(sha m/model.safetensors)" = "$old" ] && ok=0
    verdict strace-kill-between-renames $ok "model missing after the kill: $gone; the load put the old one back"
else
    skip strace-exchange-refused "no strace"
    skip strace-kill-between-renames "no strace"
fi

# 6: leftovers of dead runs (a PID that has exited) beside a model and beside a written file.
true &
dead=$!
wait "$dead"
rm -rf m && train m 1
mkdir ".m.tmp-$dead-0" ".m.old-$dead-1"
head -c 1000000 /dev/zero >".tmp-$dead-0-dates.tsv"
measure "${tiny[@]}" --out m --seed 2
"$bin" dates generate -n 5 -o dates.tsv 2>/dev/null
left=$(hidden .)
ok=1
[ "$code" = 0 ] && [ -z "$left" ] && ok=0
verdict leftovers-cleaned $ok "dead runs' .m.tmp-*, .m.old-* and .tmp-*-dates.tsv: left ${left:-nothing}"

# 7-8: a flipped byte in the weights is named; a model saved before hashes still loads.
rm -rf m && train m 1
at=$(($(stat -c %s m/model.safetensors) - 3))
byte=$(od -An -tu1 -j "$at" -N 1 m/model.safetensors | tr -d ' ')
printf "\\x$(printf %02x $((byte ^ 1)))" |
    dd of=m/model.safetensors bs=1 seek="$at" conv=notrunc status=none
measure "$bin" charlm sample --model m -n 2
ok=1
[ "$code" = 1 ] && has "model.safetensors: is truncated or corrupt: its SHA-256" && ok=0
verdict flipped-byte $ok "$(tail -n 1 err | cut -c1-90)"
rm -rf m && train m 1
awk '/"sha256"/ {skip = 1} skip && /}/ {skip = 0; next} !skip' m/meta.json |
    sed -z 's/},\n}/}\n}/' >meta && mv meta m/meta.json
measure "$bin" charlm sample --model m -n 2
ok=1
[ "$code" = 0 ] && ! grep -q sha256 m/meta.json && ok=0
verdict model-without-hashes-loads $ok "meta.json without sha256 (saved before #23)"

# 9-11: special and huge files as parts are refused at once.
rm -f m/vocab.json && ln -s /dev/zero m/vocab.json
measure timeout 60 "$bin" charlm sample --model m -n 2
ok=1
[ "$code" = 1 ] && has "vocab.json: is not a regular file" && ok=0
verdict vocab-links-to-dev-zero $ok "$(tail -n 1 err | cut -c1-90)"
rm -f m/vocab.json && mkfifo m/vocab.json
measure timeout 60 "$bin" charlm sample --model m -n 2
ok=1
[ "$code" = 1 ] && has "vocab.json: is not a regular file" && ok=0
verdict vocab-is-a-fifo $ok "refused without blocking"
rm -rf m && train m 1
truncate -s 1T m/config.json
measure timeout 60 "$bin" charlm sample --model m -n 2
ok=1
[ "$code" = 1 ] && has "config.json: is 1099511627776 bytes, more than" && ok=0
verdict sparse-1TB-config $ok "refused by its size, not read"

# 12-14: another kind of model in --out; a folder that is not a model.
rm -rf m && train m 1
emoji="$root/corpora/emoji/train.csv"
measure "$bin" -q classify train --train "$emoji" --model average --epochs 1 --out m
ok=1
[ "$code" = 1 ] && has "holds a \`charlm\` model; refusing" && loads m && ok=0
verdict other-kind-refused $ok "classify train --out CHARLM_DIR; the character model stays"
measure "$bin" -q classify train --train "$emoji" --model average --epochs 1 --out m --force
ok=1
[ "$code" = 0 ] && grep -q '"kind": "classifier"' m/meta.json && ok=0
verdict other-kind-forced $ok "--force replaces it"
mkdir -p notes && echo mine >notes/todo.txt
measure "${tiny[@]}" --out notes --seed 1 --force
ok=1
[ "$code" = 1 ] && has "is not a seqmodels model directory" && [ -f notes/todo.txt ] && ok=0
verdict not-a-model-dir-refused $ok "even with --force"

# 15-16: two runs on one --out; Ctrl-C during training.
rm -rf m
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M' -o rss-bg "$bin" --threads 1 charlm train --data names.txt --out m \
        --embed 8 --hidden 32 --epochs 100000 --seed 1 >out-bg 2>err-bg &
else
    "$bin" --threads 1 charlm train --data names.txt --out m --embed 8 --hidden 32 \
        --epochs 100000 --seed 1 >out-bg 2>err-bg &
fi
bg=$!
for _ in $(seq 600); do [ -e m/meta.json ] && break; sleep 0.1; done
holder=$(cat .m.lock 2>/dev/null)
measure "${tiny[@]}" --out m --seed 2
ok=1
[ "$code" = 1 ] && has "is in use by another seqmodels run (process $holder)" && ok=0
verdict concurrent-out-refused $ok "$(tail -n 1 err | cut -c1-90)"
sleep 1
kill -INT "${holder:-none}" 2>/dev/null || kill -9 "$bg"
wait "$bg"
code=$?
bg=""
peak=$(($(tail -n 1 rss-bg 2>/dev/null || echo 0) / 1024))
cp err-bg err
left=$(hidden .)
ok=1
[ "$code" = 130 ] && grep -q "^interrupted (Ctrl-C) .* the best so far, is saved in m" err \
    && loads m && [ -z "$left" ] && ok=0
verdict ctrl-c-keeps-the-best $ok "$(tail -n 1 err | cut -c1-90)"

# 17: kills -9 at random instants of a run that saves every epoch: the model always loads.
rm -rf m && train m 1
ok=0
peak=0
for delay in 0.3 0.5 0.7 0.9 1.1 1.3; do
    "$bin" -q --threads 1 charlm train --data names.txt --out m --embed 8 --hidden 32 \
        --epochs 100000 --seed 1 --valid-count 0 >/dev/null 2>err &
    pid=$!
    sleep "$delay"
    hwm=$(awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status" 2>/dev/null)
    [ "${hwm:-0}" -gt "$peak" ] && peak=$hwm
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    code=$?
    loads m || ok=1
done
train m 1 || ok=1
[ -z "$(hidden .)" ] || ok=1
verdict random-kills $ok "6 kills -9 during runs that save every epoch: the model loaded after each"

# 18: a full disk (a 128 KiB tmpfs in a private mount namespace): the first model fits, a second,
# larger one does not.
mkdir -p small
cat >enospc.sh <<'SH'
mount -t tmpfs -o size=128k tmpfs "$2" || exit 1
"$1" -q --threads 1 charlm train --data names.txt --out "$2/m" --embed 4 --hidden 8 \
    --epochs 1 --seed 1 >/dev/null || exit 1
old=$(sha256sum "$2/m/model.safetensors")
"$1" -q --threads 1 charlm train --data names.txt --out "$2/m" --embed 8 --hidden 96 \
    --epochs 1 --seed 1 >/dev/null
echo "code $?"
[ "$old" = "$(sha256sum "$2/m/model.safetensors")" ] && echo "old model kept"
"$1" charlm sample --model "$2/m" -n 1 >/dev/null && echo "loads"
echo "left $(ls -A "$2" | tr '\n' ' ')"
SH
ns=""
for flags in "-m" "-r -m"; do
    if unshare $flags mount -t tmpfs -o size=64k tmpfs small 2>/dev/null; then
        ns=$flags
        break
    fi
done
if [ -n "$ns" ]; then
    measure unshare $ns sh enospc.sh "$bin" "$work/small"
    ok=1
    grep -q "^code 1" out && grep -q "old model kept" out && grep -q "^loads" out \
        && grep -q "^left m $" out && has "the model was not saved; the one there before is unchanged" \
        && has "No space left on device" && ok=0
    code=$(awk '/^code/ {print $2}' out)
    verdict enospc-keeps-the-old-model $ok "full 128 KiB tmpfs: $(grep -o 'No space left on device' err); old model kept, loads"
else
    skip enospc-keeps-the-old-model "mounting a tmpfs is not allowed here (unshare -m)"
fi

# 19-24: one huge input. The limits of #23: under 400 MB for a 200 MB line, under 1 GB for
# training with a 10 MB field; a long token or a lying header costs the line limit (1 MiB).
"$bin" -q --threads 1 classify train --train "$emoji" --model average --epochs 1 \
    --out classifier >/dev/null 2>&1
yes love | head -c 200000000 | tr '\n' ' ' >line200.txt
echo >>line200.txt
input=line200.txt measure "$bin" --threads 1 classify predict --model classifier
ok=1
[ "$code" = 0 ] && [ "$(wc -l <out)" = 1 ] && [ -s out ] && [ "$peak" -lt 400 ] \
    && has "<stdin>:1: the line is 200,000,000 bytes; cut to its first 1 MiB" && ok=0
verdict predict-200MB-line $ok "cut with a warning, labelled; under 400 MB"
input=line200.txt measure "$bin" --threads 1 translate
ok=1
[ "$code" = 1 ] && [ "$(wc -l <out)" = 1 ] && [ "$peak" -lt 400 ] \
    && [ "$(wc -c <err)" -lt 1000 ] && ok=0
verdict translate-200MB-line $ok "$(head -n 1 err | cut -c1-90)"
rm -f line200.txt
{
    cat "$emoji"
    printf '"'
    yes love | head -c 10000000 | tr '\n' ' '
    printf '",0\n'
} >field10.csv
measure "$bin" -q --threads 1 classify train --train field10.csv --epochs 1 --out big-field
ok=1
[ "$code" = 0 ] && [ "$peak" -lt 1000 ] \
    && has "column 0 is 10,000,000 bytes; cut to its first 1 MiB (--max-line-bytes)" && ok=0
verdict train-10MB-field $ok "finished, the field cut with a warning; under 1 GB"
rm -f field10.csv
# What a query on a two-word vector file costs (libtorch loaded): the next three may add 32 MB.
printf 'love 1 2\nhate 3 4\n' >small.txt
measure "$bin" embed similar -v small.txt love
rest=$peak
{
    head -c 100000000 /dev/zero | tr '\0' 'x'
    printf ' 1 2\nlove 3 4\n'
} >token100.txt
measure "$bin" embed similar -v token100.txt love
ok=1
[ "$code" = 1 ] && [ "$peak" -lt $((rest + 32)) ] && [ "$(wc -c <err)" -lt 300 ] \
    && has "token100.txt:1: the line is 100,000,004 bytes; the limit is 1 MiB" && ok=0
verdict vector-100MB-token $ok "refused by line, not quoted; $((peak - rest)) MB above a 2-word file"
rm -f token100.txt
{
    echo "999999999 300"
    printf 'love'
    for _ in $(seq 300); do printf ' 0.5'; done
    echo
} >lying.txt
measure "$bin" embed similar -v lying.txt love
ok=1
[ "$code" = 1 ] && [ "$peak" -lt $((rest + 32)) ] \
    && has "header says 999999999 words, file ends after 1" && ok=0
verdict vector-lying-header $ok "999999999 x 300 declared, one word there; $((peak - rest)) MB above"
{
    echo "2 999999999"
    printf 'love '
    for _ in $(seq 1024); do printf '\200\200\200?'; done
} >lying.bin
measure "$bin" embed similar -v lying.bin love
ok=1
[ "$code" = 1 ] && [ "$peak" -lt $((rest + 32)) ] \
    && has "lying.bin:2: header says 2 words, file ends in the vector of" && ok=0
verdict vector-lying-dimension $ok "$(tail -n 1 err | cut -c1-90)"

# 25: the fuzz tests with FUZZ_CASES cases per reader (the default suite runs 64).
cases="${FUZZ_CASES:-1000}"
if [ "$cases" = 0 ]; then
    skip fuzzed-readers "FUZZ_CASES=0"
elif command -v cargo >/dev/null; then
    start=$SECONDS
    (cd "$root" && cargo test --quiet --test fuzz --no-run >/dev/null 2>&1)
    measure sh -c "cd '$root' && PROPTEST_CASES=$cases exec cargo test --quiet --test fuzz"
    ok=1
    [ "$code" = 0 ] && ok=0
    verdict fuzzed-readers $ok "$cases cases per reader, $((SECONDS - start)) s: $(grep -o 'test result: .*passed; [0-9]* failed' out)"
else
    skip fuzzed-readers "no cargo"
fi

exit $failed
