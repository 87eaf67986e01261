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
 * Defines: NCN compute nodes, NT threads per CN (ONE_REMOTE: NT on CN 0, one on each other CN),
 *   NL locks, Q ring slots (>= NCN), MAXG grants per tenure.
 *   NO_GRANT_COUNT   seeded bug: the last holder does not compare the grant counts
 *   SHARED_PROBE     asserts that shared holders never overlap (expected to FAIL: shows they do)
 *
 * Each thread makes ITER acquisitions, each of a lock and mode chosen freely, then ends.
 * Properties: assertions in the critical section (mutual exclusion, shared/exclusive
 * compatibility), invalid end states (deadlock: a thread that never finishes), and the LTL
 * property `all_granted` under weak fairness: every thread finishes, so every waiter is
 * eventually granted (no deadlock, no livelock, no starvation within the bound).
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
#ifndef ITER
#define ITER 2
#endif

/* ONE_REMOTE: CN 0 runs NT threads, every other CN one thread (smaller state space) */
#ifdef ONE_REMOTE
#define NTH (NT + NCN - 1)
#define CNOF(t) ((t) < NT -> 0 : (t) - NT + 1)
#else
#define NTH (NCN * NT)
#define CNOF(t) ((t) / NT)
#endif
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
/* the cohort mutex: 0 free, else holder + 1 */
byte mtx[NCN * NL];
/* local FIFO of thread ids */
byte lq[NCN * NL * NT];
byte lqh[NCN * NL];
byte lqn[NCN * NL];

/* ---------------- threads ---------------- */
byte wstate[NTH];
bit tmode[NTH];
bit trying[NTH];
bit incs[NTH];

byte finished;   /* threads that completed their ITER acquisitions */

/* ---------------- monitor ---------------- */
byte inX[NL];
byte inS[NL];

chan grantch[NCN] = [NCN * NL] of { byte, byte, byte };

inline lockMutex(c) {
    atomic { mtx[c] == 0 -> mtx[c] = me + 1 }
}

inline unlockMutex(c) {
    mtx[c] = 0
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
    incs[me] = 0;
    if
    :: tmode[me] == EX -> inX[l]--
    :: else -> inS[l]--
    fi
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
    byte cn = CNOF(me);
    byte l, c, pos, k, w, sel0, gr, absorbed, budget, p, last, hb, sb, eb, behind, ent, round;
    bit joined, lead, granted, gone;
    short selm;      /* bit set of selected local waiters */
    byte selp[NCN];  /* positions selected at the MN */
    byte ring[Q];    /* the releaser's copy of the ring */

    /* Each atomic block below is one atomic operation of the implementation, or a section under
       the cohort mutex that touches at most one location shared without the mutex. */
    do
    :: round == ITER -> break
    :: round < ITER ->
        round++;
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
            :: tmode[me] == SH -> tryJoin(c)     /* CAS on the mode word, no mutex */
            :: else
            fi
        };
        if
        :: joined -> atomic { hcount[c]++; habs[c]++ }; goto cs   /* join the holders */
        :: else
        fi;
        atomic {
            lockMutex(c);
            if
            :: tmode[me] == SH -> tryJoin(c)
            :: else
            fi;
            if
            :: joined -> skip
            :: !joined && phase[c] == FREE && lqn[c] == 0 ->
                phase[c] = ACQUIRING; mnX[c] = tmode[me]; locX[c] = 0; queued[c] = 0; grants[c] = 0; lead = 1;
                unlockMutex(c)
            :: else ->
                lq[c * NT + ((lqh[c] + lqn[c]) % NT)] = me; lqn[c]++;
                wstate[me] = WAITING; queued[c] = 1;
                unlockMutex(c)
            fi
        };
        if
        :: joined -> atomic { hcount[c]++; habs[c]++; unlockMutex(c) }; goto cs
        :: else
        fi;
        if
        :: !lead ->
            atomic {
                wstate[me] != WAITING ->
                if
                :: wstate[me] == GRANTED -> lead = 0
                :: else -> lead = 1
                fi;
                wstate[me] = 0
            };
            if :: !lead -> goto cs :: else fi
        :: else
        fi;

        /* ---------------- leader: MN acquire (FAA) ---------------- */
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
            :: !granted -> mnGranted[c] = 0; pend[c] = pos; ownEnt[c] = ENT(pos, cn, tmode[me])
            :: else -> ownEnt[c] = 0
            fi
        };
        if
        :: granted -> atomic { pos = 0; granted = 0 }
        :: else ->
            /* enqueue: WRITE the entry; an exclusive request READs the word behind it (same batch,
               applied in order, other verbs may land between) and holds if it is at the head */
            slot[l * Q + pos % Q] = ownEnt[c];
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
        /* start the tenure (under the mutex) */
        atomic {
            lockMutex(c);
            selm = 0;
            if
            :: tmode[me] == SH -> selectLocal(c, 0, MAXG - 1)
            :: else -> k = 0
            fi;
            hcount[c] = 1 + k; habs[c] = 1 + k;
            phase[c] = HELD; mnX[c] = tmode[me]; locX[c] = tmode[me];
            queued[c] = (lqn[c] > 0); remote[c] = (behind > 0); grants[c] = 1 + k;
            behind = 0;
            wakeSelected();
            unlockMutex(c)
        };

cs:
        enterCS(l);

        /* ---------------- release ---------------- */
        atomic {
            exitCS(l);
            joined = 0;
            if
            :: tmode[me] == SH -> if :: hcount[c] > 1 -> hcount[c]--; joined = 1 :: else fi
            :: else
            fi
        };
        if :: joined -> goto done :: else fi;
        /* holder manager: one atomic removal that tells whether others still hold */
        atomic {
            lockMutex(c);
            assert(phase[c] == HELD && hcount[c] >= 1 && locX[c] == tmode[me]);
            if
            :: hcount[c] > 1 -> hcount[c]--; joined = 1; unlockMutex(c)
            :: else -> hcount[c] = 0; absorbed = habs[c]
            fi
        };
        if :: joined -> goto done :: else fi;
        /* mode manager: read the word, validate the grant count; waiter manager selects; the
           mode word is updated by CAS against the word read (still under the mutex) */
        atomic {
            gr = grants[c];
#ifndef NO_GRANT_COUNT
            if
            :: gr != absorbed -> unlockMutex(c); goto done
            :: else
            fi;
#endif
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
            budget = 0;
            if
            :: k > 0 ->
                /* local handover */
                locX[c] = tmode[sel0]; grants[c] = gr + k; queued[c] = (lqn[c] > 0);
                hcount[c] = hcount[c] + k; habs[c] = habs[c] + k; wakeSelected();
                unlockMutex(c);
                goto done
            :: else ->
                phase[c] = RELEASING;
                unlockMutex(c)
            fi
        };
#ifdef NO_GRANT_COUNT
        /* without the count check the CAS still compares the word read above (here: nothing
           changed in between, as the block is atomic) */
#endif

        /* MN release: CAS clearing its own entry, FAA, READ of the ring (one batch, in order) */
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
            k = 0; behind = 0;
            p = (hb + 1) % PMOD;
            last = (hb + sb - 1) % PMOD
        };
        /* waiter manager on the MN: select */
        if
        :: sb > 1 && mnX[c] ->
            do
            :: true ->
                do
                :: ISFOR(ring[p % Q], p) -> break
                :: !ISFOR(ring[p % Q], p) ->
                    ring[p % Q] = slot[l * Q + p % Q];   /* re-read the entry ... */
                    if
                    :: k == 0 && p == (hb + 1) % PMOD && eb >= 2 ->
                        atomic {                         /* ... and, at H+1 with E >= 2, the word */
                            if
                            :: !ISFOR(ring[p % Q], p) && H[l] != p -> gone = 1
                            :: else
                            fi
                        }
                    :: else
                    fi;
                    if :: gone -> break :: else fi
                od;
                if :: gone -> break :: else fi;
                atomic {
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
                }
            od;
            behind = (last + PMOD + 1 - p) % PMOD;
            gone = 0
        :: sb > 1 && !mnX[c] && eb > 0 && ISFOR(ring[p % Q], p) && EEX(ring[p % Q]) ->
            selp[0] = p; k = 1; behind = (last + PMOD - p) % PMOD
        :: else
        fi;
        /* grant manager on this CN: one message per selected waiter */
        do
        :: k > 0 ->
            atomic {
                k--;
                ent = ring[selp[k] % Q];
                grantch[ECN(ent)] ! l, selp[k], behind + k;
                selp[k] = 0
            }
        :: else -> break
        od;
        /* hand the cohort to the next local waiter as leader, or free it */
        atomic {
            lockMutex(c);
            ent = 0; p = 0; last = 0; hb = 0; sb = 0; eb = 0; behind = 0;
            k = 0;
            do
            :: k < Q -> ring[k] = 0; k++
            :: else -> break
            od;
            k = 0;
            if
            :: lqn[c] == 0 -> phase[c] = FREE; mnX[c] = 0; locX[c] = 0; queued[c] = 0; remote[c] = 0; grants[c] = 0
            :: else ->
                w = lq[c * NT + lqh[c]]; lqh[c] = (lqh[c] + 1) % NT; lqn[c]--;
                phase[c] = ACQUIRING; mnX[c] = tmode[w]; locX[c] = 0; queued[c] = (lqn[c] > 0);
                remote[c] = 0; grants[c] = 0;
                wstate[w] = LEAD; w = 0
            fi;
            unlockMutex(c)
        };
done:
        atomic { joined = 0; gr = 0; absorbed = 0; c = 0; l = 0; trying[me] = 0 }
    od;
    finished++
}

/* the grant manager's receiving side on compute node `cn` */
proctype GrantReceiver(byte cn) {
    byte l, pos, behind;
end:
    do
    :: atomic {
        grantch[cn] ? l, pos, behind ->
            /* grant counting at the CN boundary: only the request the cohort waits on, once */
            if
            :: pend[C(cn, l)] == pos ->
                pend[C(cn, l)] = NONE; mnBehind[C(cn, l)] = behind; mnGranted[C(cn, l)] = 1
            :: else     /* dropped: that request already holds (a duplicate of its own grant) */
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

/* every thread completes its ITER acquisitions: every waiter is eventually granted (under weak
   fairness; a thread that waits forever, deadlocked or in a re-read loop, violates it) */
ltl all_granted { <> (finished == NTH) }
