#!/usr/bin/env bash
# `npm run start:deno`: the Deno entry with the narrowest permissions that work.
#   --allow-net          listen on HOST:PORT, and reach registries, their token realms and the
#                        CDNs blobs redirect to (hosts known only at run time)
#   --allow-env=…        the variables edgepull reads (src/config.ts), nothing else
#   --allow-read=…       the store, the config file, node_modules (Swagger UI's files for /docs)
#   --allow-write=…      the store only
# Relative EDGEPULL_DATA/EDGEPULL_CONFIG are taken from the current directory, as on Node
# (npm runs scripts from the package root). Paths must not contain commas (Deno's list syntax).
set -euo pipefail
# test/runtimes/deno.test.ts checks this list against what src/config.ts reads.
ENV_NAMES=PORT,HOST,EDGEPULL_DATA,EDGEPULL_CONFIG,EDGEPULL_TOKEN_SECRET,EDGEPULL_WRITE_TOKEN
root=$(cd "$(dirname "$0")/.." && pwd)
deno=${DENO:-$root/node_modules/.bin/deno}
data=${EDGEPULL_DATA:-./data}
read="$data,$root/node_modules"
if [ -n "${EDGEPULL_CONFIG:-}" ]; then read="$read,$EDGEPULL_CONFIG"; fi
# No update check and no permission prompt: a server must neither phone home nor stop to ask.
export DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1
exec "$deno" run --quiet --allow-net --allow-env=$ENV_NAMES \
  --allow-read="$read" --allow-write="$data" "$root/src/runtime/deno.ts"
