/*
 * Model of the `adaptive` lock's switch protocol (lock/src/main/java/io/dmtree/lock/adaptive), checked
 * exhaustively with spin by AdaptiveLockModelCheckTest.
 *
 * What is modelled, step for step with the Java code (each atomic step is one verb or one local
 * atomic action):
 *  - the assignment word A (AdaptiveLockLayout): 0 FREE, TAG(c) held by compute node c in the word
 *    assignment, TAG(c)|QF held with the queue waiting, QF QUEUED. Verbs on it: the word acquire's
 *    CAS 0 -> TAG, the word release's FAA -TAG, the take-over's CAS 0 -> QF and CAS TAG -> TAG|QF and
 *    READs, the switch back's WRITE 0, recovery's CAS TAG[|QF] -> [QF].
 *  - the modular lock behind it, abstracted to what the switch protocol relies on (the modular
 *    protocol itself is checked by modular_lock.pml): an exclusive FIFO queue of compute nodes with
 *    one request each; admission is one step (the FAA) and is granted at once when the queue was
 *    empty; a release pops the head (the FAA), and the releaser then sends a grant to the new head
 *    (a separate step, delivered by a receiver process at any later time) carrying the request's
 *    sequence number (its position) and the handed-on flag; a grant takes effect only for the request
 *    waited on, once. A head may also find itself holding in the MN state at any time (the Java
 *    waiter's own look, or a grant recovery re-sends): such a grant never carries handed-on.
 *  - the tenure hooks: the leader's take-over before its tenure, the last holder's choice at the
 *    MN release (switch back: WRITE A = 0 before the FAA, grants unflagged; or hand on: grants
 *    flagged). The choice is free (the Java chooses by quiet tenures): every choice is checked.
 *  - the word spin: a word acquirer whose CAS finds a plain tag may CAS again, up to WRETRY times
 *    (the Java's time bound), and stops at QUEUED or at a tag with QF; then it takes the queued
 *    path, and so does its compute node (the hint) until it switches back.
 *  - CRASH: the last compute node (the victim) stops between any two steps; a Crasher sets `dead`
 *    at any time and the victim's thread ends there (`unless`), as a fenced member's verbs fail from
 *    then on; messages to it are lost; its hold vanishes from the monitor. Recovery
 *    (AdaptiveRecovery) then (1) CASes A from the victim's tag to what its release would leave, and
 *    (2) releases the victim's queued request once it is at the head (the modular recovery's rule:
 *    a departed request is released only once it provably holds), granting the next head without
 *    the handed-on flag.
 *
 * One thread per compute node (the cohort's local handovers stay inside a tenure and touch neither
 * A nor the hooks). Each thread makes ITER acquisitions.
 * Properties: assertions (mutual exclusion in the critical section; invariant 1, the holder owns A;
 * invariant 2, A is QUEUED at a switch back; invariant 3, A is QUEUED when a handed-on tenure
 * starts; invariant 4, no word acquire succeeds while a take-over has flagged the queue beside a
 * tag and not ended: the take-over is not overtaken), no invalid end state (deadlock), and the LTL property `all_granted` under weak fairness:
 * every live thread finishes, so no waiter is lost, also after the victim stopped.
 *
 * Defines: NCN compute nodes, ITER acquisitions per thread, WRETRY word retries, CRASH.
 * Seeded bugs (each expected to FAIL):
 *   NO_TAKEOVER        a leader granted at once does not take the word over
 *   SWITCH_AFTER_FAA   the switch back's WRITE goes after the modular release instead of before it
 *   ALWAYS_HANDED_ON   grants are flagged handed-on also after a switch back
 *   PLAIN_RELEASE      the word release writes 0 instead of adding -TAG (loses the queue's flag, so a
 *                      word acquirer overtakes the take-over: invariant 4)
 */

#ifndef NCN
#define NCN 3
#endif
#ifndef ITER
#define ITER 2
#endif
#ifndef WRETRY
#define WRETRY 1
#endif

#define QF 8
#define TAG(c) ((c) + 1)
#define TAGOF(a) ((a) & 7)
#define NONE 255
#define SEQS 4

#ifdef CRASH
#define VICTIM (NCN - 1)
#define NLIVE (NCN - 1)
#define DEPARTED(c) (dead && (c) == VICTIM)
#else
#define VICTIM 255
#define NLIVE NCN
#define DEPARTED(c) 0
#endif

byte A;                 /* the assignment word */

/* the modular lock, abstracted: FIFO of compute nodes */
byte q[NCN];
byte qh;
byte qn;
bit inQ[NCN];
byte seq[NCN];          /* sequence number of each node's current request */
bit granted[NCN];
bit ho[NCN];            /* the grant that took effect carried handed-on */
chan gch[NCN] = [NCN] of { byte, bit };

bit hint[NCN];          /* 1: take the queued path */
bit dead;
byte finished;

/* monitor */
byte pend;              /* ghost: 1 + the node whose take-over has flagged the queue beside a tag and not yet ended */
byte inCS;
bit incs[NCN];

inline popHead() {
    inQ[me2] = 0;
    qh = (qh + 1) % NCN;
    qn--;
    if
    :: qn > 0 -> nxt = q[qh]; s = seq[nxt]
    :: else -> nxt = NONE
    fi
}

inline sendGrant(flag) {
    if
    :: nxt != NONE && !DEPARTED(nxt) -> gch[nxt]!s, flag
    :: else
    fi;
    nxt = NONE; s = 0
}

proctype GrantReceiver(byte c) {
    byte rs;
    bit rh;
end_recv:
    do
    :: gch[c]?rs, rh ->
        atomic {
            if
            :: !DEPARTED(c) && inQ[c] && rs == seq[c] && !granted[c] -> granted[c] = 1; ho[c] = rh
            :: else
            fi;
            rs = 0; rh = 0
        }
    od
}

inline body() {
    do
    :: it < ITER ->
        /* ---- acquire ---- */
        word = 0;
        if
        :: !hint[me] ->
            do
            :: atomic {
                if
                :: A == 0 -> A = TAG(me); word = 1; assert(pend == 0)        /* invariant 4 */
                :: else -> f = A
                fi
              };
              if
              :: word -> break
              :: !word && wr < WRETRY && f != QF && (f & QF) == 0 -> wr++      /* the word spin: CAS again */
              :: else -> hint[me] = 1; break
              fi
            od;
            wr = 0; f = 0
        :: else
        fi;
        if
        :: !word ->
            atomic {   /* the modular admission (FAA) */
                seq[me] = (seq[me] + 1) % SEQS;
                granted[me] = 0; ho[me] = 0;
                q[(qh + qn) % NCN] = me; qn++; inQ[me] = 1;
                if :: qn == 1 -> granted[me] = 1 :: else fi
            };
            do
            :: granted[me] -> break
            :: atomic { !granted[me] && qn > 0 && q[qh] == me -> granted[me] = 1; ho[me] = 0 }   /* own look */
            od;
            /* tenure start: the take-over */
            if
            :: ho[me] -> assert(A == QF)                                   /* invariant 3 */
            :: else ->
#ifndef NO_TAKEOVER
                atomic { f = A; if :: A == 0 -> A = QF; f = QF :: else fi };
                do
                :: f == QF -> break
                :: f == 0 -> atomic { f = A; if :: A == 0 -> A = QF; f = QF :: else fi }
                :: f != 0 && f != QF && (f & QF) == 0 ->
                    atomic { if :: A == f -> A = f | QF; f = f | QF; pend = me + 1 :: else -> f = A fi }
                :: f != QF && (f & QF) != 0 -> atomic { A != f -> f = A }  /* READ until it changes */
                od;
                atomic { if :: pend == me + 1 -> pend = 0 :: else fi; f = 0 }
#else
                skip
#endif
            fi
        :: else
        fi;
        /* ---- critical section ---- */
        atomic {
            assert(inCS == 0);
            if
            :: word -> assert(TAGOF(A) == TAG(me))                           /* invariant 1 */
            :: else -> assert(A == QF && qn > 0 && q[qh] == me)
            fi;
            inCS++; incs[me] = 1
        };
        atomic { inCS--; incs[me] = 0 };
        /* ---- release ---- */
        if
        :: word ->
            atomic {
#ifndef PLAIN_RELEASE
                A = A - TAG(me)
#else
                A = 0
#endif
            }
        :: else ->
            if
            :: sw = 1
            :: sw = 0
            fi;
#ifndef SWITCH_AFTER_FAA
            if :: sw -> assert(A == QF); A = 0; hint[me] = 0 :: else fi;   /* invariant 2 */
#endif
            atomic { me2 = me; popHead() };
#ifdef SWITCH_AFTER_FAA
            if :: sw -> A = 0; hint[me] = 0 :: else fi;
#endif
#ifndef ALWAYS_HANDED_ON
            sendGrant(!sw)
#else
            sendGrant(1)
#endif
        fi;
        sw = 0; word = 0;
        it++
    :: else -> break
    od
}

proctype Thread(byte me) {
    byte it, f, nxt, s, me2, wr;
    bit word, sw;
    if
    :: me == VICTIM -> { body() } unless { dead }
    :: else -> body(); finished++
    fi
}

#ifdef CRASH
proctype Crasher() {
    atomic {
        dead = 1;
        if :: incs[VICTIM] -> inCS--; incs[VICTIM] = 0 :: else fi;
        if :: pend == VICTIM + 1 -> pend = 0 :: else fi
    }
}

proctype Recovery() {
    byte nxt, s, me2;
end_idle:
    dead == 1;
    /* (1) the word: what the victim's release would leave */
    atomic { if :: TAGOF(A) == TAG(VICTIM) -> A = A & QF :: else fi };
    /* (2) the modular recovery: release the victim's request once it holds (is at the head) */
    do
    :: atomic { !inQ[VICTIM] -> break }
    :: atomic { inQ[VICTIM] && qn > 0 && q[qh] == VICTIM -> me2 = VICTIM; popHead() };
       sendGrant(0)
    od
}
#endif

init {
    byte i;
    atomic {
        i = 0;
        do
        :: i < NCN -> run GrantReceiver(i); i++
        :: else -> break
        od;
#ifdef CRASH
        run Crasher();
        run Recovery();
#endif
        i = 0;
        do
        :: i < NCN -> run Thread(i); i++
        :: else -> break
        od;
        i = 0
    }
}

/* every live thread completes its ITER acquisitions (under weak fairness) */
ltl all_granted { <> (finished == NLIVE) }
