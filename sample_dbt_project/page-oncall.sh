#!/bin/sh
# The sample's stand-in for a pager: eltkit runs it (no shell, in this folder)
# with the event as JSON on stdin. Replace it with your paging tool's CLI.
mkdir -p .eltkit
{ cat; echo; } >> .eltkit/pages.log
echo "paged on-call: $ELTKIT_EVENT_SOURCE $ELTKIT_EVENT_NAME $ELTKIT_EVENT_KIND" >&2
