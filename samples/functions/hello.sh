#!/bin/sh
# Sample shell function: lists the FLUXBASE_SECRET_* variables it received (names only).
echo "hello-sh: running in namespace staging"
env | sed -n 's/^\(FLUXBASE_SECRET_[A-Za-z0-9_-]*\)=.*/  \1/p' | sort
