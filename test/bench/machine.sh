# shellcheck shell=bash
# test/bench/machine.sh — the machine line that opens a bench section (sourced by
# test/bench/temporal.sh and test/bench/feedback.sh).

# Prints "- machine: CPU, cores, PostgreSQL, reco version, date, 1-min load at the start
# ($1) and now" as a markdown item; reads the versions through the caller's q().
bench_machine_line() {
    printf -- '- machine: %s, %s cores (nproc), %s; reco %s; %s; 1-min load %s at the start, %s at the end\n' \
        "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" "$(nproc)" \
        "$(q -c 'SELECT version()' | sed 's/ on .*//')" "$(q -c 'SELECT reco.version()')" \
        "$(date -u '+%Y-%m-%d %H:%M UTC')" "$1" "$(cut -d' ' -f1 /proc/loadavg)"
}
