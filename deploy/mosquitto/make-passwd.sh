#!/bin/sh
# Makes the broker's password file: `make-passwd.sh FILE USER:PASSWORD...`
# e.g. make-passwd.sh /etc/mosquitto/omo/passwd edge-SH-001:"$EDGE_PW" cloud:"$CLOUD_PW" rider-1:"$R1_PW"
# Passwords are hashed by mosquitto_passwd (PBKDF2-SHA512); never commit the file.
set -eu
file=$1
shift
: > "$file"
chmod 600 "$file"
for pair in "$@"; do
    mosquitto_passwd -b "$file" "${pair%%:*}" "${pair#*:}"
done
