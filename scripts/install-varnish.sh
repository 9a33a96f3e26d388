#!/bin/bash
# magento-dr: make sure `varnishd` is here for `make test`, which compiles and runs the project's VCL with it
# (tests/varnish_harness.py). Installs Debian's/Ubuntu's `varnish` package with apt when it is missing: as
# root, or through passwordless sudo (GitHub's runners). Anything else stops with what to install; the tests
# never skip the compilation.
set -euo pipefail

found() { command -v varnishd > /dev/null 2>&1 || [ -x /usr/sbin/varnishd ]; }
if found; then
  exit 0
fi
if ! command -v apt-get > /dev/null 2>&1; then
  echo "make test needs varnishd (Varnish 6.0 or newer) to compile the VCL; install your system's varnish package" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo > /dev/null 2>&1 && sudo -n true 2> /dev/null; then
  SUDO="sudo -n"
else
  echo "make test needs varnishd to compile the VCL: run 'sudo apt-get install -y --no-install-recommends varnish'" >&2
  exit 1
fi
echo "magento-dr: installing Debian's varnish package (varnishd -C compiles the VCL in the tests)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends varnish > /dev/null
# The package may start its own service (default VCL on :6081); the tests start their own varnishd.
if command -v systemctl > /dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now varnish.service varnishncsa.service > /dev/null 2>&1 || true
fi
if ! found; then
  echo "the varnish package was installed but varnishd is not on PATH or in /usr/sbin" >&2
  exit 1
fi
