#!/usr/bin/env bash
# The soak scenarios of `make soak`, 3 seconds each (see scripts/soak.sh).
cd "$(dirname "$0")/../.."
SOAK_SECONDS=3 exec bash scripts/soak.sh "${FPT_BUILD:-build}"
