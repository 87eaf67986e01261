/*
 * Model of the `modular` lock protocol (lock/src/main/java/io/dmtree/lock/modular), checked
 * exhaustively with spin by ModularLockModelCheckTest.
 *
 * What is modelled, step for step with the Java code (each atomic step is one atomic operation
 * or one verb of the implementation):
 *  - MN (MnLockQueue): the lock word (H, S, E) changed only by FAA; a ring of Q waiter entries,
 *    each WRITE one step; a release posts FAA then READ of the ring (two steps: other verbs may
 *    land between them); entries not yet written are re-read one at a time.
 *  - CN grant manager (MessagingGrantManager): grant messages on a channel per CN, delivered by
 *    a separate process at any later time; a grant takes effect only if it carries the position
 *    the cohort waits on.
 *  - CN cohort (Cohort, CohortModeManager, CohortHolderManager, CohortWaiterManager): the mode
 *    word with its grant count (joins CAS it without the mutex), the holder word with the
 *    absorbed count, a local FIFO, a FIFO mutex; local handover bounded by MAXG grants per tenure
 *    and, non-deterministically, by the age of a known remote waiter.
 *  - Shared and exclusive modes, shared batches at the MN and in the cohort.
 *
 * Defines: NCN compute nodes, NT threads per CN, NL locks, Q ring slots (>= NCN), MAXG.
 *   NO_GRANT_COUNT   seeded bug: the last holder does not compare the grant counts
 *   SHARED_PROBE     asserts that shared holders never overlap (expected to FAIL: shows they do)
 *
 * Properties: assertions in the critical section (mutual exclusion, shared/exclusive
 * compatibility), invalid end states (deadlock: threads loop forever, so any global block is an
 * error), and per-thread liveness as LTL `live` under weak fairness: every thread that starts
 * an acquire eventually holds.
 */

#ifndef NCN
#define NCN 2
#endif
#ifndef NT
#define NT 2
#endif
#ifndef NL
#define NL 1
#endif
#ifndef Q
#define Q 2
#endif
#ifndef MAXG
#define MAXG 2
#endif
#ifndef WATCH
#define WATCH 0
#endif

#define NTH (NCN * NT)
#define PMOD (4 * Q)
#define NONE 255

/* cohort phases */
#define FREE 0
#define ACQUIRING 1
#define HELD 2
#define RELEASING 3

/* local waiter states */
#define WAITING 1
#define GRANTED 2
#define LEAD 3

#define SH 0
#define EX 1

/* ---------------- MN state (per lock) ---------------- */
byte H[NL];
byte S[NL];
byte E[NL];
/* ring entry: bit7 present, bit6 exclusive, bits4-5 cn, bits0-3 position */
byte slot[NL * Q];
#define ENT(p, cn, x) (128 | ((x) << 6) | ((cn) << 4) | (p))
#define EPR(e) (((e) >> 7) & 1)
#define EEX(e) (((e) >> 6) & 1)
#define ECN(e) (((e) >> 4) & 3)
#define EPOS(e) ((e) & 15)
#define ISFOR(e, p) (EPR(e) && EPOS(e) == (p))

/* ---------------- CN cohorts (per cn, lock) ---------------- */
#define C(cn, l) ((cn) * NL + (l))
byte phase[NCN * NL];
bit mnX[NCN * NL];
bit locX[NCN * NL];
bit queued[NCN * NL];
bit remote[NCN * NL];
byte grants[NCN * NL];
byte hcount[NCN * NL];
byte habs[NCN * NL];
byte pend[NCN * NL];
bit mnGranted[NCN * NL];
byte mnBehind[NCN * NL];
byte ownEnt[NCN * NL];   /* the entry this cohort's MN request wrote, 0 if granted at once */
/* FIFO mutex: ticket and now serving, mod 4 (at most NT <= 3 threads per cohort) */
byte mtick[NCN * NL];
byte mserve[NCN * NL];
/* local FIFO of thread ids */
byte lq[NCN * NL * NT];
byte lqh[NCN * NL];
byte lqn[NCN * NL];

/* ---------------- threads ---------------- */
byte wstate[NTH];
bit tmode[NTH];
bit trying[NTH];
bit incs[NTH];

/* ---------------- monitor ---------------- */
byte inX[NL];
byte inS[NL];

chan grantch[NCN] = [NCN * NL] of { byte, byte, byte };

inline lockMutex(c) {
    atomic { mt = mtick[c]; mtick[c] = (mtick[c] + 1) % 4 };
    (mserve[c] == mt);
    mt = 0
}

inline unlockMutex(c) {
    mserve[c] = (mserve[c] + 1) % 4
}

/* join shared local holders: the CAS on the mode word (age: remote waiter too old, chosen freely) */
inline tryJoin(c) {
    atomic {
        if
        :: phase[c] == HELD && !locX[c] && !queued[c] && grants[c] < MAXG ->
            if
            :: remote[c] -> if :: joined = 1 :: skip fi
            :: else -> joined = 1
            fi;
            if :: joined -> grants[c]++ :: else fi
        :: else
        fi
    }
}

inline enterCS(l) {
    atomic {
        trying[me] = 0;
        incs[me] = 1;
        if
        :: tmode[me] == EX -> assert(inX[l] == 0 && inS[l] == 0); inX[l]++
        :: else -> assert(inX[l] == 0); inS[l]++
        fi;
#ifdef SHARED_PROBE
        assert(inS[l] < 2);
#endif
    }
}

inline exitCS(l) {
    atomic {
        incs[me] = 0;
        if
        :: tmode[me] == EX -> inX[l]--
        :: else -> inS[l]--
        fi
    }
}

/* select local waiters from the head of c's FIFO (caller holds the mutex): the head if the
   tenure's MN mode allows it, then consecutive shared waiters when the head is shared */
inline selectLocal(c, mnEx, budget) {
    k = 0;
    do
    :: k < budget && lqn[c] > 0 ->
        w = lq[c * NT + lqh[c]];
        if
        :: k == 0 && (mnEx || tmode[w] == SH) -> sel0 = w
        :: k > 0 && tmode[sel0] == SH && tmode[w] == SH -> skip
        :: else -> break
        fi;
        lqh[c] = (lqh[c] + 1) % NT;
        lqn[c]--;
        selm = selm | (1 << w);
        k++;
        if :: tmode[w] == EX -> break :: else fi
    :: else -> break
    od;
    w = 0
}

/* aborted grant: the k selected waiters go back to the head, in order (no enqueue happened
   meanwhile: the mutex is held) */
inline restoreLocal(c) {
    lqh[c] = (lqh[c] + NT - k) % NT;
    lqn[c] = lqn[c] + k;
    selm = 0; k = 0; sel0 = 0
}

inline wakeSelected() {
    w = 0;
    do
    :: w < NTH ->
        if :: selm & (1 << w) -> wstate[w] = GRANTED :: else fi;
        w++
    :: else -> break
    od;
    selm = 0; w = 0; k = 0; sel0 = 0
}

proctype Thread(byte me) {
    byte cn = me / NT;
    byte l, c, mt, pos, k, w, sel0, gr, absorbed, budget, p, last, hb, sb, eb, behind, ent;
    bit joined, lead, granted;
    short selm;      /* bit set of selected local waiters */
    byte selp[NCN];  /* positions selected at the MN */
    byte ring[Q];    /* the releaser's copy of the ring */

idle:
    do
    :: true ->
        /* ---------------- acquire ---------------- */
        atomic {
            if
            :: NL > 1 -> if :: l = 0 :: l = NL - 1 fi
            :: else -> l = 0
            fi;
            c = C(cn, l);
            if :: tmode[me] = SH :: tmode[me] = EX fi;
            trying[me] = 1;
            joined = 0; lead = 0;
            if
            :: tmode[me] == SH -> tryJoin(c)
            :: else
            fi
        };
        if
        :: joined -> atomic { hcount[c]++; habs[c]++ }; goto cs
        :: else
        fi;
        lockMutex(c);
        if
        :: tmode[me] == SH -> tryJoin(c)
        :: else
        fi;
        if
        :: joined -> atomic { hcount[c]++; habs[c]++ }; unlockMutex(c); goto cs
        :: else
        fi;
        atomic {
            if
            :: phase[c] == FREE && lqn[c] == 0 ->
                phase[c] = ACQUIRING; mnX[c] = tmode[me]; locX[c] = 0; queued[c] = 0; grants[c] = 0; lead = 1
            :: else ->
                lq[c * NT + ((lqh[c] + lqn[c]) % NT)] = me; lqn[c]++;
                wstate[me] = WAITING; queued[c] = 1
            fi
        };
        unlockMutex(c);
        if
        :: !lead ->
            (wstate[me] != WAITING);
            if
            :: wstate[me] == GRANTED -> wstate[me] = 0; goto cs
            :: else -> wstate[me] = 0
            fi
        :: else
        fi;

        /* ---------------- leader: MN acquire ---------------- */
        atomic {
            /* grants are delivered before positions wrap (modelled: none in flight to this CN) */
            empty(grantch[cn]);
            behind = 0;
            pos = (H[l] + S[l]) % PMOD;
            granted = (S[l] == 0 || (tmode[me] == SH && E[l] == 0));
            S[l]++;
            if :: tmode[me] == EX -> E[l]++ :: else fi;
            assert(S[l] <= Q);
            if
            :: !granted -> mnGranted[c] = 0; pend[c] = pos
            :: else
            fi
        };
        if
        :: granted -> atomic { ownEnt[c] = 0; pos = 0; granted = 0 }
        :: else ->
            ownEnt[c] = ENT(pos, cn, tmode[me]);
            /* enqueue: WRITE the entry; an exclusive request READs the word behind it (same batch,
               applied in order, other verbs may land between) and holds if it is at the head */
            slot[l * Q + pos % Q] = ENT(pos, cn, tmode[me]);
            atomic {
                if
                :: tmode[me] == EX && H[l] == pos && pend[c] == pos ->
                    pend[c] = NONE; mnBehind[c] = S[l] - 1; mnGranted[c] = 1
                :: else
                fi;
                pos = 0; granted = 0
            };
            atomic { mnGranted[c] == 1 -> behind = mnBehind[c]; mnGranted[c] = 0; mnBehind[c] = 0 }
        fi;
        /* start the tenure */
        lockMutex(c);
        atomic {
            selm = 0;
            if
            :: tmode[me] == SH -> selectLocal(c, 0, MAXG - 1)
            :: else -> k = 0
            fi;
            hcount[c] = 1 + k; habs[c] = 1 + k;
            phase[c] = HELD; mnX[c] = tmode[me]; locX[c] = tmode[me];
            queued[c] = (lqn[c] > 0); remote[c] = (behind > 0); grants[c] = 1 + k;
            behind = 0;
            wakeSelected()
        };
        unlockMutex(c);

cs:
        enterCS(l);
        exitCS(l);

        /* ---------------- release ---------------- */
        atomic {
            joined = 0;
            if
            :: tmode[me] == SH -> if :: hcount[c] > 1 -> hcount[c]--; joined = 1 :: else fi
            :: else
            fi
        };
        if :: joined -> goto done :: else fi;
        lockMutex(c);
        /* holder manager: one atomic removal that tells whether others still hold */
        atomic {
            assert(phase[c] == HELD && hcount[c] >= 1 && locX[c] == tmode[me]);
            if
            :: hcount[c] > 1 -> hcount[c]--; joined = 1
            :: else -> hcount[c] = 0; absorbed = habs[c]
            fi
        };
        if :: joined -> unlockMutex(c); goto done :: else fi;
        /* the mode manager's word as read for validation and the CAS */
        gr = grants[c];
#ifndef NO_GRANT_COUNT
        if
        :: gr != absorbed -> unlockMutex(c); goto done
        :: else
        fi;
#endif
        /* waiter manager selects local waiters the tenure may still serve */
        atomic {
            budget = 0;
            if
            :: gr < MAXG ->
                if
                :: remote[c] -> if :: budget = MAXG - gr :: skip fi
                :: else -> budget = MAXG - gr
                fi
            :: else
            fi;
            selm = 0;
            selectLocal(c, mnX[c], budget);
            budget = 0
        };
        if
        :: k > 0 ->
            atomic {
                if
                :: grants[c] == gr ->   /* CAS on the mode word */
                    locX[c] = tmode[sel0]; grants[c] = gr + k; queued[c] = (lqn[c] > 0);
                    joined = 1
                :: else -> restoreLocal(c)
                fi
            };
            if
            :: joined ->
                atomic { hcount[c] = hcount[c] + k; habs[c] = habs[c] + k; wakeSelected() }
            :: else
            fi;
            unlockMutex(c);
            goto done
        :: else
        fi;
        atomic {
            if
            :: grants[c] == gr -> phase[c] = RELEASING; joined = 1
            :: else
            fi
        };
        unlockMutex(c);
        if :: !joined -> goto done :: else -> joined = 0 fi;

        /* MN release: CAS clearing its own entry, FAA, READ of the ring (one batch, applied in order) */
        atomic {
            if
            :: ownEnt[c] != 0 && slot[l * Q + EPOS(ownEnt[c]) % Q] == ownEnt[c] -> slot[l * Q + EPOS(ownEnt[c]) % Q] = 0
            :: else
            fi;
            ownEnt[c] = 0
        };
        atomic {
            hb = H[l]; sb = S[l]; eb = E[l];
            assert(sb >= 1);
            H[l] = (H[l] + 1) % PMOD; S[l]--;
            if :: mnX[c] -> assert(E[l] >= 1); E[l]-- :: else fi
        };
        atomic {
            p = 0;
            do
            :: p < Q -> ring[p] = slot[l * Q + p]; p++
            :: else -> break
            od;
            p = 0
        };
        /* waiter manager on the MN: select */
        k = 0; behind = 0;
        if
        :: sb > 1 ->
            p = (hb + 1) % PMOD;
            last = (hb + sb - 1) % PMOD;
            if
            :: mnX[c] ->
                do
                :: true ->
                    do
                    :: ISFOR(ring[p % Q], p) -> break
                    :: !ISFOR(ring[p % Q], p) ->
                        ring[p % Q] = slot[l * Q + p % Q]   /* re-read one entry */
                    od;
                    if
                    :: EEX(ring[p % Q]) ->
                        if :: k == 0 -> selp[k] = p; k++; p = (p + 1) % PMOD :: else fi;
                        break
                    :: else ->
                        selp[k] = p; k++;
                        if
                        :: p == last -> p = (p + 1) % PMOD; break
                        :: else -> p = (p + 1) % PMOD
                        fi
                    fi
                od;
                behind = (last + PMOD + 1 - p) % PMOD
            :: else ->
                if
                :: eb > 0 && ISFOR(ring[p % Q], p) && EEX(ring[p % Q]) ->
                    selp[0] = p; k = 1; behind = (last + PMOD - p) % PMOD
                :: else
                fi
            fi
        :: else
        fi;
        /* grant manager on this CN: one message per selected waiter */
        do
        :: k > 0 ->
            k--;
            ent = ring[selp[k] % Q];
            grantch[ECN(ent)] ! l, selp[k], behind + k;
            selp[k] = 0
        :: else -> break
        od;
        atomic {
            ent = 0; p = 0; last = 0; hb = 0; sb = 0; eb = 0; behind = 0;
            do
            :: p < Q -> ring[p] = 0; p++
            :: else -> break
            od;
            p = 0
        };
        /* hand the cohort to the next local waiter as leader, or free it */
        lockMutex(c);
        atomic {
            if
            :: lqn[c] == 0 -> phase[c] = FREE; mnX[c] = 0; locX[c] = 0; queued[c] = 0; remote[c] = 0; grants[c] = 0
            :: else ->
                w = lq[c * NT + lqh[c]]; lqh[c] = (lqh[c] + 1) % NT; lqn[c]--;
                phase[c] = ACQUIRING; mnX[c] = tmode[w]; locX[c] = 0; queued[c] = (lqn[c] > 0);
                remote[c] = 0; grants[c] = 0;
                wstate[w] = LEAD; w = 0
            fi
        };
        unlockMutex(c);
done:
        atomic { joined = 0; gr = 0; absorbed = 0; c = 0; l = 0 }
    od
}

/* the grant manager's receiving side on compute node `cn` */
proctype GrantReceiver(byte cn) {
    byte l, pos, behind;
end:
    do
    :: grantch[cn] ? l, pos, behind ->
        atomic {
            /* grant counting at the CN boundary: only the request the cohort waits on */
            if
            :: pend[C(cn, l)] == pos ->
                pend[C(cn, l)] = NONE; mnBehind[C(cn, l)] = behind; mnGranted[C(cn, l)] = 1
            :: else     /* dropped: this request already holds (a duplicate of its own grant) */
            fi;
            l = 0; pos = 0; behind = 0
        }
    od
}

init {
    byte i;
    atomic {
        i = 0;
        do
        :: i < NCN * NL -> pend[i] = NONE; i++
        :: else -> break
        od;
        i = 0;
        do
        :: i < NTH -> run Thread(i); i++
        :: else -> break
        od;
        i = 0;
        do
        :: i < NCN -> run GrantReceiver(i); i++
        :: else -> break
        od
    }
}

/* every thread that tries eventually holds (checked per thread: -N live0 ...) */
ltl live0 { [] (trying[0] -> <> incs[0]) }
ltl live1 { [] (trying[1] -> <> incs[1]) }
ltl live2 { [] (trying[NTH - 1] -> <> incs[NTH - 1]) }
