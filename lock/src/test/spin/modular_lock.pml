/*
 * Model of the `modular` lock protocol (lock/src/main/java/io/dmtree/lock/modular), checked
 * exhaustively with spin by ModularLockModelCheckTest.
 *
 * What is modelled, step for step with the Java code (each atomic step is one atomic operation
 * or one verb of the implementation):
 *  - MN (MnLockQueue): the lock word changed only by FAA (and, by recovery, by CAS): H, and a
 *    mode field per compute node (fld: 0 none, 1 shared, 2 exclusive) from which S and E follow
 *    (kept alongside, updated in the same step); a ring of Q waiter entries, each WRITE one step;
 *    a release posts FAA then READ of the ring (two steps: other verbs may land between them);
 *    entries not yet written are re-read one at a time.
 *  - CN grant manager (MessagingGrantManager): grant messages on a channel per CN, delivered by
 *    a separate process at any later time; a grant takes effect only if it carries the position
 *    the cohort waits on.
 *  - CN cohort (Cohort, CohortModeManager, CohortHolderManager, CohortWaiterManager): the mode
 *    word with its grant count (joins CAS it without the mutex), the holder word with the
 *    absorbed count, a local FIFO, a FIFO mutex; local handover bounded by MAXG grants per tenure
 *    and, non-deterministically, by the age of a known remote waiter.
 *  - Shared and exclusive modes, shared batches at the MN and in the cohort.
 *  - CRASH: the last compute node (the victim) stops at any point of its protocol, between any
 *    two steps (also between the requests of one batch): a Crasher process sets `dead` at any
 *    time and every thread of the victim ends there (`unless`), as a fenced member's verbs fail
 *    from then on; messages to it are lost. Its holds vanish from the monitor (it runs no critical
 *    section any more). Then:
 *      . Recovery (ModularRecovery): re-grants the holders of every lock, then for each lock with
 *        the victim's field releases the victim's request on its behalf once it provably holds
 *        (rules A-E of ModularRecovery), by CAS on the word, with the waiter manager's selection
 *        and grants of a release, and re-grants again;
 *      . a releaser waiting for an entry that is never written gives up once every compute node
 *        the word before its FAA names without an entry has departed (MnLockQueue.departedVerdict);
 *      . a waiter that heard nothing looks at the MN state itself (MnLockQueue.holdsByState), at
 *        any time after the crash (the Java does it when membership changes).
 *
 * Defines: NCN compute nodes, NT threads per CN (ONE_REMOTE: NT on CN 0, one on each other CN),
 *   NL locks, Q ring slots (>= NCN), MAXG grants per tenure.
 *   CRASH            the last CN is the victim, with VNT threads (default 1); NT threads on the others
 *   NO_GRANT_COUNT   seeded bug: the last holder does not compare the grant counts
 *   RECOVERY_BUG     seeded bug: recovery releases the victim's request without waiting for it to hold
 *   NO_GIVE_UP       seeded bug: a releaser waits for a departed waiter's entry for ever
 *   SHARED_PROBE     asserts that shared holders never overlap (expected to FAIL: shows they do)
 *   EX_ONLY          every request is exclusive (a smaller state space)
 *   CRASH_BEHIND_WAITER  the victim stops only while it waits behind a live holder and a live waiter
 *                    on lock 0 (narrows the search to where an early release would let that waiter in)
 *   CRASH_HOLDING_WITH_WAITER  the victim stops only while one of its threads holds lock 0 (or releases
 *                    it) and another waits behind it in the cohort
 *
 * Each thread makes ITER acquisitions, each of a lock and mode chosen freely, then ends.
 * Properties: assertions in the critical section (mutual exclusion, shared/exclusive
 * compatibility among the threads that run), invalid end states (deadlock: a live thread that
 * never finishes), and the LTL property `all_granted` under weak fairness: every live thread
 * finishes, so every live waiter is eventually granted (no deadlock, no livelock, no starvation
 * within the bound), also after the victim stopped.
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

#ifdef CRASH
#ifndef VNT
#define VNT 1
#endif
#define VICTIM (NCN - 1)
#define NLIVE ((NCN - 1) * NT)
#define NTH (NLIVE + VNT)
#define CNOF(t) ((t) < NLIVE -> (t) / NT : VICTIM)
#if VNT > NT
#define LQN VNT
#else
#define LQN NT
#endif
#define DEPARTED(x) (dead && (x) == VICTIM)
#define VICTIM_OR_NONE VICTIM
#else
/* ONE_REMOTE: CN 0 runs NT threads, every other CN one thread (smaller state space) */
#ifdef ONE_REMOTE
#define NTH (NT + NCN - 1)
#define CNOF(t) ((t) < NT -> 0 : (t) - NT + 1)
#else
#define NTH (NCN * NT)
#define CNOF(t) ((t) / NT)
#endif
#define NLIVE NTH
#define LQN NT
#define DEPARTED(x) 0
#define VICTIM_OR_NONE 255
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
byte fld[NL * NCN];   /* the word's mode field of each CN: 0 none, 1 shared, 2 exclusive (kept with CRASH,
                         where recovery reads it; without, S and E say all the protocol reads) */
#define F(l, cn) fld[(l) * NCN + (cn)]
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
byte lq[NCN * NL * LQN];
byte lqh[NCN * NL];
byte lqn[NCN * NL];

/* ---------------- threads ---------------- */
byte wstate[NTH];
bit tmode[NTH];
bit trying[NTH];
bit incs[NTH];
byte tl[NTH];    /* the lock a thread in its critical section holds */

byte finished;   /* live threads that completed their ITER acquisitions */
bit dead;        /* the victim has stopped (CRASH) */

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
        tl[me] = l;
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
    tl[me] = 0;
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
        w = lq[c * LQN + lqh[c]];
        if
        :: k == 0 && (mnEx || tmode[w] == SH) -> sel0 = w
        :: k > 0 && tmode[sel0] == SH && tmode[w] == SH -> skip
        :: else -> break
        fi;
        lqh[c] = (lqh[c] + 1) % LQN;
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

/* READ of the whole ring of lock l into the local copy */
inline readRing(l) {
    atomic {
        i = 0;
        do
        :: i < Q -> ring[i] = slot[(l) * Q + i]; i++
        :: else -> break
        od;
        i = 0
    }
}

/*
 * The READ of the ring after a release, and the waiter manager's selection after the release of
 * compute node `rel`'s request, from the word before it (hb, sb, eb, wfb) and that copy
 * (MnLockQueue.select). Leaves the positions to grant
 * in selp[0..k-1] and the waiters behind in `behind`. After an exclusive release every position
 * from hb+1 on is a waiter: an entry not written for its position is re-read; at hb+1 with another
 * exclusive request queued the re-read also reads the word (the request there may have granted
 * itself and left: `gone`); and once every compute node the word before names (other than `rel`)
 * without an entry among positions hb+1 .. hb+sb-1 has departed, the position is theirs: shared,
 * granted and gone past (vd 1), exclusive (vd 2), or unknown (vd 3).
 */
inline mnSelect(l, relX, rel) {
    atomic {   /* the READ of the ring posted behind the FAA */
        i = 0;
        do
        :: i < Q -> ring[i] = slot[(l) * Q + i]; i++
        :: else -> break
        od;
        i = 0;
        k = 0; behind = 0; gone = 0; vd = 0;
        p = (hb + 1) % PMOD;
        last = (hb + sb - 1) % PMOD
    };
    if
    :: sb > 1 && relX ->
        do
        :: true ->
            do
            :: ISFOR(ring[p % Q], p) -> break
            :: !ISFOR(ring[p % Q], p) && !dead ->
                ring[p % Q] = slot[(l) * Q + p % Q];   /* re-read the entry ... */
                if
                :: p == (hb + 1) % PMOD && eb >= 2 ->
                    atomic {                         /* ... and, at H+1 with E >= 2, the word */
                        if
                        :: !ISFOR(ring[p % Q], p) && H[l] != p -> gone = 1
                        :: else
                        fi
                    }
                :: else
                fi;
                if :: gone -> break :: else fi
            :: atomic {
                /* after a departure, every round consults membership (the Java does at its liveness
                   bound): read the ring and, at H+1 with E >= 2, the word; name the compute nodes the
                   word before names without an entry */
                !ISFOR(ring[p % Q], p) && dead ->
                i = 0;
                do
                :: i < Q -> ring[i] = slot[(l) * Q + i]; i++
                :: else -> break
                od;
                if
                :: p == (hb + 1) % PMOD && eb >= 2 && !ISFOR(ring[p % Q], p) && H[l] != p -> gone = 1
                :: else
                fi;
                vd = 0;
#ifndef NO_GIVE_UP
                acc = 0; i = 0;
                do
                :: i < Q ->
                    if
                    :: EPR(ring[i]) && (EPOS(ring[i]) + PMOD - hb) % PMOD >= 1 && (EPOS(ring[i]) + PMOD - hb) % PMOD < sb -> acc = acc | (1 << ECN(ring[i]))
                    :: else
                    fi;
                    i++
                :: else -> break
                od;
                lv = 0; i = 0;
                do
                :: i < NCN ->
                    if
                    :: wfb[i] != 0 && i != rel && (acc & (1 << i)) == 0 ->
                        if :: DEPARTED(i) -> vd = vd | wfb[i] :: else -> lv = 1 fi
                    :: else
                    fi;
                    i++
                :: else -> break
                od;
                if :: lv || ISFOR(ring[p % Q], p) || gone -> vd = 0 :: else fi;
#endif
                i = 0; acc = 0; lv = 0;
                if :: vd != 0 || gone -> break :: else fi
            }
            od;
            if :: gone -> break :: else fi;
            atomic {
                if
                :: vd == 3 -> break                          /* unknown mode: recovery goes on from here */
                :: vd == 2 || (vd == 0 && EEX(ring[p % Q])) ->
                    if
                    :: p == (hb + 1) % PMOD ->
                        if :: vd == 0 -> selp[k] = p; k++ :: else fi;
                        p = (p + 1) % PMOD
                    :: else
                    fi;
                    break
                :: else ->                                   /* shared: granted; a departed one gets no message */
                    if :: vd == 0 -> selp[k] = p; k++ :: else fi;
                    vd = 0;
                    if
                    :: p == last -> p = (p + 1) % PMOD; break
                    :: else -> p = (p + 1) % PMOD
                    fi
                fi
            }
        od;
        atomic { behind = (last + PMOD + 1 - p) % PMOD; gone = 0; vd = 0 }
    :: sb > 1 && !relX && eb > 0 && ISFOR(ring[p % Q], p) && EEX(ring[p % Q]) ->
        selp[0] = p; k = 1; behind = (last + PMOD - p) % PMOD
    :: else
    fi
}

/* grant manager: one message per selected waiter; a message to a departed node is dropped */
inline sendGrants(l) {
    do
    :: k > 0 ->
        atomic {
            k--;
            ent = ring[selp[k] % Q];
            if
            :: DEPARTED(ECN(ent)) -> skip
            :: else -> grantch[ECN(ent)] ! l, selp[k], behind + k
            fi;
            selp[k] = 0
        }
    :: else -> break
    od
}

proctype Thread(byte me) {
    byte cn = CNOF(me);
    byte l, c, pos, k, w, sel0, gr, absorbed, budget, p, last, hb, sb, eb, behind, ent, round, i, vd, acc;
    bit joined, lead, granted, gone, lv;
    short selm;      /* bit set of selected local waiters */
    byte selp[NCN];  /* positions selected at the MN */
    byte ring[Q];    /* the releaser's copy of the ring */
    byte wfb[NCN];   /* the word's fields before the release's FAA */

    /* Each atomic block below is one atomic operation of the implementation, or a section under
       the cohort mutex that touches at most one location shared without the mutex. */
#ifdef CRASH
  {
#endif
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
#ifdef EX_ONLY
            tmode[me] = EX;
#else
            if :: tmode[me] = SH :: tmode[me] = EX fi;
#endif
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
                lq[c * LQN + ((lqh[c] + lqn[c]) % LQN)] = me; lqn[c]++;
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
#ifdef CRASH
            assert(F(l, cn) == 0);
            F(l, cn) = 1 + tmode[me];
#endif
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
            do
            :: atomic { mnGranted[c] == 1 -> behind = mnBehind[c]; mnGranted[c] = 0; mnBehind[c] = 0; break }
#ifdef CRASH
            :: atomic {
                /* nothing came since a member departed: look at the MN state (holdsByState) */
                dead && mnGranted[c] == 0 && pend[c] != NONE ->
                pos = pend[c];
                if
                :: H[l] == pos -> granted = 1
                :: tmode[me] == SH ->
                    i = H[l]; granted = 1;
                    do
                    :: i == pos -> break
                    :: else ->
                        if
                        :: !ISFOR(slot[l * Q + i % Q], i) || EEX(slot[l * Q + i % Q]) -> granted = 0; break
                        :: else -> i = (i + 1) % PMOD
                        fi
                    od
                :: else
                fi;
                if
                :: granted -> pend[c] = NONE; mnBehind[c] = 0; mnGranted[c] = 1
                :: else
                fi;
                pos = 0; granted = 0; i = 0
            }
#endif
            od
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
#ifdef CRASH
            assert(sb >= 1 && F(l, cn) == 1 + mnX[c]);
            i = 0;
            do
            :: i < NCN -> wfb[i] = F(l, i); i++
            :: else -> break
            od;
            i = 0;
            F(l, cn) = 0;
#endif
            H[l] = (H[l] + 1) % PMOD; S[l]--;
            if :: mnX[c] -> assert(E[l] >= 1); E[l]-- :: else fi
        };
        /* READ of the ring; waiter manager on the MN: select; grant manager on this CN: one message per selected waiter */
        mnSelect(l, mnX[c], cn);
#ifdef CRASH
        atomic { i = 0; do :: i < NCN -> wfb[i] = 0; i++ :: else -> break od; i = 0 };
#endif
        sendGrants(l);
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
                w = lq[c * LQN + lqh[c]]; lqh[c] = (lqh[c] + 1) % LQN; lqn[c]--;
                phase[c] = ACQUIRING; mnX[c] = tmode[w]; locX[c] = 0; queued[c] = (lqn[c] > 0);
                remote[c] = 0; grants[c] = 0;
                wstate[w] = LEAD; w = 0
            fi;
            unlockMutex(c)
        };
done:
        atomic { joined = 0; gr = 0; absorbed = 0; c = 0; l = 0; trying[me] = 0 }
    od;
    finished = finished + (cn != VICTIM_OR_NONE)
#ifdef CRASH
  } unless { dead && cn == VICTIM }
#endif
}

/* the grant manager's receiving side on compute node `cn`; messages to a departed node are lost */
proctype GrantReceiver(byte cn) {
    byte l, pos, behind;
end:
    do
    :: atomic {
        grantch[cn] ? l, pos, behind ->
            /* grant counting at the CN boundary: only the request the cohort waits on, once */
            if
            :: DEPARTED(cn) -> skip
            :: pend[C(cn, l)] == pos ->
                pend[C(cn, l)] = NONE; mnBehind[C(cn, l)] = behind; mnGranted[C(cn, l)] = 1
            :: else     /* dropped: that request already holds (a duplicate of its own grant) */
            fi;
            l = 0; pos = 0; behind = 0
        }
    od
}

#ifdef CRASH
/* the stop: from here on no step of the victim runs, and its critical sections vanish */
proctype Crasher() {
    byte i;
end_alive:
    atomic {
#if defined(CRASH_BEHIND_WAITER)
        /* narrows the search: the victim stops only while it waits behind a live holder and waiter */
        !dead && pend[C(VICTIM, 0)] != NONE && S[0] == 3 && pend[C(VICTIM, 0)] == (H[0] + 2) % PMOD -> dead = 1;
#elif defined(CRASH_HOLDING_WITH_WAITER)
        /* narrows the search: the victim stops only while one of its threads holds the lock at the
           memory node (or is releasing it) and another waits in its cohort */
        !dead && phase[C(VICTIM, 0)] >= HELD && lqn[C(VICTIM, 0)] > 0 -> dead = 1;
#else
        !dead -> dead = 1;
#endif
        i = 0;
        do
        :: i < NTH ->
            if
            :: CNOF(i) == VICTIM && incs[i] ->
                if :: tmode[i] == EX -> inX[tl[i]]-- :: else -> inS[tl[i]]-- fi;
                incs[i] = 0
            :: else
            fi;
            i++
        :: else -> break
        od;
        i = 0
    }
}

/* recovery's snapshot of one lock: the word (one READ), then the ring (a READ behind it) */
inline snapshot(l) {
    atomic {
        hb = H[l]; sb = S[l]; eb = E[l];
        i = 0;
        do
        :: i < NCN -> wfb[i] = F(l, i); i++
        :: else -> break
        od;
        i = 0
    };
    readRing(l)
}

/* attributes the entries of the copy to the compute nodes the word names (ModularRecovery.parse) */
inline parse() {
    has = 0; passed = 0; duSh = 0; duEx = 0; liveAcc = 1;
    i = 0;
    do
    :: i < Q -> byRel[i] = NONE; i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < Q ->
        ent = ring[i];
        if
        :: EPR(ent) && wfb[ECN(ent)] != 0 && (has & (1 << ECN(ent))) == 0 && EEX(ent) == (wfb[ECN(ent)] == 2) ->
            r = (EPOS(ent) + PMOD - hb) % PMOD;
            if
            :: r < sb -> has = has | (1 << ECN(ent)); relc[ECN(ent)] = r; byRel[r] = ECN(ent)
            :: r >= PMOD - Q -> has = has | (1 << ECN(ent)); relc[ECN(ent)] = r - PMOD; passed++
            :: else
            fi
        :: else
        fi;
        i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < NCN ->
        if
        :: wfb[i] != 0 && (has & (1 << i)) == 0 ->
            if
            :: DEPARTED(i) -> if :: wfb[i] == 1 -> duSh++ :: else -> duEx++ fi
            :: else -> liveAcc = 0
            fi
        :: else
        fi;
        i++
    :: else -> break
    od;
    i = 0; ent = 0; r = 0
}

/* the departed compute node whose request provably holds, rules A-E of ModularRecovery, or NONE */
inline decide() {
    d = NONE;
    parse();
#ifdef RECOVERY_BUG
    if :: wfb[VICTIM] != 0 -> d = VICTIM :: else fi;
#endif
    if
    :: d == NONE && liveAcc ->
        i = 0;
        do
        :: i < NCN ->
            if
            :: (has & (1 << i)) && DEPARTED(i) && wfb[i] != 0 && relc[i] <= 0 -> d = i; break   /* A, B */
            :: else -> i++
            fi
        :: else -> break
        od;
        if
        :: d == NONE && duEx == 0 ->
            i = 0;
            do
            :: i < NCN ->
                if
                :: (has & (1 << i)) && DEPARTED(i) && wfb[i] == 1 && relc[i] > 0 ->
                    r = 0; x = 0;
                    do
                    :: r < relc[i] ->
                        if :: byRel[r] != NONE && wfb[byRel[r]] == 2 -> x = 1 :: else fi;
                        r++
                    :: else -> break
                    od;
                    if :: !x -> d = i; break :: else -> i++ fi                                   /* C */
                :: else -> i++
                fi
            :: else -> break
            od
        :: else
        fi;
        if
        :: d == NONE && duSh + duEx > 0 ->
            de = NONE; i = 0;
            do
            :: i < NCN ->
                if
                :: (has & (1 << i)) == 0 && DEPARTED(i) && wfb[i] != 0 -> de = i; break
                :: else -> i++
                fi
            :: else -> break
            od;
            if
            :: byRel[0] == NONE && passed == 0 -> d = de                                           /* D */
            :: else ->
                if
                :: duEx == 0 ->
                    r = 0; x = 0;
                    do
                    :: r < sb && (byRel[r] == NONE || wfb[byRel[r]] != 2) ->
                        if :: byRel[r] == NONE -> x++ :: else fi;
                        r++
                    :: else -> break
                    od;
                    if :: x > passed -> d = de :: else fi                                          /* E */
                :: else
                fi
            fi
        :: else
        fi
    :: else
    fi;
    r = 0; x = 0; de = 0
}

/* clears recovery's copies, so states differ only in what matters */
inline forget() {
    i = 0;
    do
    :: i < Q -> ring[i] = 0; byRel[i] = 0; i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < NCN -> wfb[i] = 0; relc[i] = 0; i++
    :: else -> break
    od;
    i = 0; hb = 0; sb = 0; eb = 0; has = 0; passed = 0; duSh = 0; duEx = 0; liveAcc = 0
}

/*
 * Grants again the requests the state shows holding (ModularRecovery.regrant): one look (word,
 * then ring) and the sends. The look is one step: a grant for a request that held when looked
 * at stays right (grants carry positions and are taken once).
 */
inline regrant(l) {
    atomic {
        snapshot(l);
        parse();
        k = 0;
        if
        :: sb > 0 ->
            r = 0;
            do
            :: r < sb ->
                if
                :: byRel[r] == NONE ->
                    if :: liveAcc && duEx == 0 -> r++ :: else -> break fi
                :: else ->
                    if
                    :: wfb[byRel[r]] == 2 && r > 0 -> break
                    :: else ->
                        if :: !DEPARTED(byRel[r]) -> selp[k] = (hb + r) % PMOD; k++ :: else fi;
                        if :: wfb[byRel[r]] == 2 -> break :: else -> r++ fi
                    fi
                fi
            :: else -> break
            od
        :: else
        fi;
        behind = 0; r = 0;
        forget()
    };
    readRing(l);   /* the sends name the entries of the selected positions */
    sendGrants(l);
    atomic { i = 0; do :: i < Q -> ring[i] = 0; i++ :: else -> break od; i = 0 }
}

proctype Recovery() {
    byte l, p, k, last, hb, sb, eb, behind, ent, i, vd, acc, d, de, has, passed, duSh, duEx, x;
    short r;
    bit gone, lv, liveAcc, ok, dx, once;
    byte rg;
    byte selp[NCN];
    byte ring[Q];
    byte wfb[NCN];
    byte byRel[Q];
    short relc[NCN];

end_idle:
    dead == 1;   /* the victim is fenced and reported departed */
    /* rg: the lock to re-grant next (NL: none); first every lock, then each lock after a release */
    rg = 0; once = 0; l = 0;
    do
    :: rg < NL ->
        regrant(rg);
        if :: once -> rg = NL; once = 0 :: else -> rg++ fi
    :: rg == NL && l == NL -> break
    :: rg == NL && l < NL && F(l, VICTIM) == 0 -> l++
    :: rg == NL && l < NL && F(l, VICTIM) != 0 ->
        /*
         * One look and the CAS that acts on it, as one step: the Java reads the word, then the
         * ring, then CASes the word from the value read; with the word unchanged throughout, what
         * it saw is the state at its ring READ, and a request that held then still holds at the
         * CAS (only recovery releases a departed request).
         */
        atomic {
            snapshot(l);
            decide();
            if
            :: d != NONE ->
                F(l, d) = 0;
                H[l] = (H[l] + 1) % PMOD; S[l]--;
                dx = (wfb[d] == 2);
                if :: dx -> E[l]-- :: else fi;
                ok = 1
            :: else -> d = 0
            fi;
            if :: ok -> skip :: else -> forget() fi
        };
        if
        :: ok ->
            mnSelect(l, dx, d);
            sendGrants(l);
            atomic { forget(); d = 0; dx = 0; ok = 0; p = 0; last = 0; rg = l; once = 1 }
        :: else
        fi
    od
}
#endif

init {
    byte i;
    atomic {
        i = 0;
        do
        :: i < NCN * NL -> pend[i] = NONE; i++
        :: else -> break
        od;
        /* the victim's threads get the highest process numbers: once they have stopped, spin drops
           their local state, so states after the stop differ only in what the stop left behind */
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
        :: i < NTH -> run Thread(i); i++
        :: else -> break
        od;
        i = 0
    }
}

/* every live thread completes its ITER acquisitions: every live waiter is eventually granted
   (under weak fairness; a thread that waits forever, deadlocked or in a re-read loop, violates it) */
ltl all_granted { <> (finished == NLIVE) }
