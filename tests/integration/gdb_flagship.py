# gdb_flagship.py — the flagship story in the real gdb (gdb_flagship.sh):
# on a replay of a failing race.elf recording, continue to bank_panic,
# watch -l race.bank.balance[K] (K: the account the panic names, in
# $RACE_K) and reverse-continue until a stop in account_transfer_fast whose
# value read (from_balance or to_balance) differs from the balance it is
# about to overwrite: the racing store. Prints lines the shell checks:
#   STOP n FUNCTION             each reverse-continue's stop
#   RACY n PC BEFORE READ AMOUNT the racing store found (or, at n = 1, the
#                               unlocked transfer the audit caught half-done)
#   INSN text                   the instruction at the stop
#   AFTER value                 balance[K] after one stepi over it
#   WANT value                  what the store computes from what it read
import os

import gdb

K = int(os.environ["RACE_K"])
LIMIT = int(os.environ.get("RACE_LIMIT", "400"))


def val(expr):
    return int(gdb.parse_and_eval(expr))


gdb.execute("break bank_panic")
gdb.execute("continue")
gdb.execute("delete")
gdb.execute("watch -l race.bank.balance[%d]" % K)
racy = None
for n in range(1, LIMIT + 1):
    gdb.execute("reverse-continue")
    name = gdb.selected_frame().name()
    print("STOP %d %s" % (n, name))
    if name is None or name.startswith("_start"):
        break
    if name != "account_transfer_fast":
        continue
    before = val("race.bank.balance[%d]" % K)
    credit = val("to") == K
    read = val("to_balance" if credit else "from_balance")
    amount = val("amount")
    # The racing store: what it read is not what it overwrites (another
    # worker's update came in between). Or, at the first stop, the audit
    # caught the unlocked transfer between its two stores.
    if read != before or n == 1:
        racy = (n, before, read, amount, credit)
        break
if racy:
    n, before, read, amount, credit = racy
    print("RACY %d %#x %d %d %d" % (n, val("$pc"), before, read, amount))
    store = read + amount if credit else read - amount
    if read != before:
        print("The racing store (reverse-continue #%d): account_transfer_fast read %d from "
              "race.bank.balance[%d], which is %d now; it stores %d and wipes out %+d "
              "from another worker's transfer." % (n, read, K, before, store, before - read))
    else:
        print("The audit caught account_transfer_fast between its two stores "
              "(reverse-continue #%d): race.bank.balance[%d] %d -> %d." % (n, K, before, store))
    print("INSN " + gdb.execute("x/i $pc", to_string=True).strip())
    gdb.execute("bt")
    gdb.execute("stepi")
    print("AFTER %d" % val("race.bank.balance[%d]" % K))
    print("WANT %d" % (read + amount if credit else read - amount))
