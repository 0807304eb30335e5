#!/bin/sh
# The node command of the jsii kernel (JSII_NODE, set by provider_loader.install()).
# jsii starts `$JSII_NODE --max-old-space-size=4069 <folder>/bin/jsii-runtime.js`. That stock
# runtime starts the kernel (<folder>/lib/program.js) as a second node process and relays every
# request and response between the two. This runs the kernel in this one process instead
# (jsii_kernel.js), with fd 3, where the kernel reads its requests, a copy of stdin.
# --preserve-symlinks is what the stock runtime adds for the kernel. Any other call runs as given.
if [ "$#" -eq 2 ] && [ "${2%/bin/jsii-runtime.js}" != "$2" ] && [ -f "${2%/bin/jsii-runtime.js}/lib/program.js" ]; then
  exec node --preserve-symlinks "$1" "$(dirname "$0")/jsii_kernel.js" "${2%/bin/jsii-runtime.js}/lib/program.js" 3<&0
fi
exec node "$@"
