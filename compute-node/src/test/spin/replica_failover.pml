/*
 * Model of synchronous mirroring and primary failover (compute-node
 * io.dmtree.cn.replica.ReplicatingVerbs, ReplicaPlacement), checked exhaustively with spin by
 * ReplicaFailoverModelCheckTest.
 *
 * What is modelled, step for step with the Java code (each atomic step is one verb as one memory
 * node applies it):
 *  - NR replicas of one region, replica 0 the first primary. Each holds the data word `val` (a
 *    tree node's bytes) and a lock word `lockw`; only the primary's lock word is ever used (lock
 *    verbs go to the primary alone), so a promoted mirror starts with a free lock table.
 *  - Each replica has an epoch gate: it applies a verb only if the verb's configuration epoch is
 *    at least the gate (the replica's verbs connection is stamped with the epoch under which the
 *    compute node uses it). A replica dies (`dead`) or, once deposed, refuses everything: its
 *    membership session ended, so by the lease contract it serves nothing from then on.
 *  - NW writers, each ITER read-modify-writes under the lock: lock on the primary (one CAS), read
 *    the word from the primary, write the new value to every replica of its configuration posted
 *    together (the deliveries land in any order, one step each), then release on the primary only
 *    after every replica applied the write, then acknowledge. Any refused verb: the writer waits
 *    for a newer configuration and retries the whole operation from its first verb (its lock dies
 *    with the old epoch). A release refused after every replica has the write still acknowledges:
 *    the data is on every replica of the configuration, the promoted one included.
 *  - A reader that reads the primary of the configuration it last learned (compute nodes cache
 *    it), and learns the newer one when refused.
 *  - A killer that, once, at any time (or never), takes the primary away: it crashes, or it only
 *    pauses (partitioned, stopped) and may go on answering until it is deposed.
 *  - Failover (membership saw the primary's session end): deposes the old primary, raises the gate
 *    of every surviving replica to the next epoch, frees the new primary's lock table, and only
 *    then publishes the configuration: the first surviving mirror as primary, epoch + 1.
 *
 * Properties (assertions): a read returns at least the largest value acknowledged before it
 * started (no acknowledged write is lost, no deposed primary answers); once the writers are done
 * and the configuration is settled, every replica of the configuration holds at least the largest
 * acknowledged value (a promoted mirror has every acknowledged write); no invalid end state.
 *
 * Defines: NR replicas (2 or 3), NW writers, ITER operations per writer, RITER reads.
 *   NO_GATE              seeded bug: failover does not raise the epoch gates; a late write of the
 *                        old epoch lands on the promoted mirror after a newer acknowledged write
 *   SERVE_AFTER_LAPSE    seeded bug: a deposed primary goes on answering (its late replies are
 *                        taken): a reader sees a value older than an acknowledged write
 *   RELEASE_WITH_WRITES  seeded bug: the release goes to the primary together with the writes, so
 *                        the next holder's mirror write may land before this one's: a mirror ends
 *                        older than an acknowledged write
 */

#ifndef NR
#define NR 2
#endif
#ifndef NW
#define NW 2
#endif
#ifndef ITER
#define ITER 2
#endif
#ifndef RITER
#define RITER 2
#endif

#define NONE 255

byte val[NR];
byte lockw[NR];
byte gate[NR];
bool dead[NR];
bool member[NR];
byte deposed = NONE;
byte epoch = 1;
byte prim = 0;
byte acked = 0;
bool suspected = false;
bool decided = false;
byte done = 0;

#ifdef SERVE_AFTER_LAPSE
#define accepts(r, e) (!dead[r] && gate[r] <= (e))
#else
#define accepts(r, e) (!dead[r] && gate[r] <= (e) && (r) != deposed)
#endif

#ifdef RELEASE_WITH_WRITES
#define releaseWith(r) if :: (r) == p -> lockw[r] = 0 :: else -> skip fi
#else
#define releaseWith(r) skip
#endif

#define deliver(r) \
    atomic { todo[r] = false; \
        if \
        :: accepts(r, e) -> val[r] = v; releaseWith(r) \
        :: else -> failed = true \
        fi }

proctype Writer(byte w) {
    byte i = 0, e, p, v, r;
    bool todo[NR], failed, got;
attempt:
    if
    :: i == ITER -> goto finish
    :: else -> skip
    fi;
    atomic {
        e = epoch; p = prim; failed = false; got = false;
        for (r : 0 .. NR - 1) { todo[r] = member[r] }
    }
    /* lock: one CAS on the primary's lock word */
    atomic {
        if
        :: !accepts(p, e) -> failed = true
        :: else ->
            if
            :: lockw[p] == 0 -> lockw[p] = w + 1; got = true
            :: else -> skip
            fi
        fi
    }
    if
    :: failed -> goto retry
    :: !failed && !got -> goto attempt
    :: else -> skip
    fi;
    /* read under the lock, from the primary */
    atomic {
        if
        :: accepts(p, e) -> v = val[p] + 1
        :: else -> failed = true
        fi
    }
    if
    :: failed -> goto retry
    :: else -> skip
    fi;
    /* the write to every replica of the configuration, posted together */
    do
    :: todo[0] -> deliver(0)
    :: todo[1] -> deliver(1)
#if NR > 2
    :: todo[2] -> deliver(2)
#endif
    :: else -> break
    od;
    if
    :: failed -> goto retry
    :: else -> skip
    fi;
#ifndef RELEASE_WITH_WRITES
    /* release only now that every replica has the write; refused: the lock dies with the epoch */
    atomic {
        if
        :: accepts(p, e) -> lockw[p] = 0
        :: else -> skip
        fi
    }
#endif
    atomic {
        if
        :: acked < v -> acked = v
        :: else -> skip
        fi;
        i++
    }
    goto attempt;
retry:
    (epoch != e);
    goto attempt;
finish:
    done++
}

proctype Reader() {
    byte n = 0, e, p, a;
    atomic { e = epoch; p = prim }  /* the configuration as this compute node last learned it */
    do
    :: n < RITER ->
        a = acked;  /* the read starts: every write acknowledged so far must show */
        atomic {
            if
            :: accepts(p, e) -> assert(val[p] >= a); n++
            :: else -> e = epoch; p = prim  /* refused: learn the newer configuration, retry */
            fi
        }
    :: else -> break
    od
}

proctype Killer() {
    if
    :: atomic { suspected = true; dead[prim] = true }   /* crash-stop */
    :: suspected = true                                 /* paused or partitioned: may answer late */
    :: skip                                             /* no failure in this run */
    fi;
    decided = true
}

proctype Failover() {
    byte old, np, r;
end_idle:
    suspected;  /* a run without a failure ends here */
    old = prim;
    deposed = old;   /* its membership session ended: by the lease contract it serves nothing more */
    np = NONE;
    for (r : 0 .. NR - 1) {
        if
        :: np == NONE && member[r] && r != old -> np = r
        :: else -> skip
        fi
    }
#ifndef NO_GATE
    for (r : 0 .. NR - 1) {
        if
        :: member[r] && r != old -> gate[r] = epoch + 1
        :: else -> skip
        fi
    }
#endif
    lockw[np] = 0;
    atomic { member[old] = false; prim = np; epoch++ }
}

proctype Checker() {
    byte r;
    (done == NW && decided && (!suspected || epoch == 2));
    for (r : 0 .. NR - 1) {
        if
        :: member[r] -> assert(val[r] >= acked)
        :: else -> skip
        fi
    }
}

init {
    byte r;
    atomic {
        for (r : 0 .. NR - 1) { member[r] = true; gate[r] = 1 }
        for (r : 0 .. NW - 1) { run Writer(r) }
        run Reader();
        run Killer();
        run Failover();
        run Checker()
    }
}
