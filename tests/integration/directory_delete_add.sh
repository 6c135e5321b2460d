#!/bin/bash
# directory_store.sh with both daemons at ldap_compare_and_swap = delete-add against a slapd that
# lists the assertion control: every conditional write is one modify that deletes the old value
# and adds the new, never the control. The same checks must hold (one code raced on A and B 50
# times accepted once each time, a backup code spent on A refused on B, a lock from A holding on
# B, an admin's unlock/disable/pass on B seen by A's next login, offline and reconciliation), the
# start-up line must say the form was forced by the config, and slapd's stats log must show the
# races lost with noSuchAttribute (16), never assertionFailed (122).
DIRECTORY_CAS=delete-add
. "$top_srcdir/tests/integration/directory_store.sh"
