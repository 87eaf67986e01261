package io.dmtree.workloads.cn;

import io.dmtree.cn.control.BarrierRelease;
import io.dmtree.cn.control.ControlException;
import io.dmtree.core.wire.ControlFrame;
import io.dmtree.core.wire.ErrorCode;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The barriers of one compute node in a multi-process run, in their order: {@code start} (a
 * counting barrier: fixes the members), then the member barriers the run names ({@code loaded},
 * {@code counter}, {@code results}, ...). No wait here is silent or unbounded, and a compute node
 * that cannot take part is named to the others:
 *
 * <ul>
 * <li>Every wait is made of short calls ({@link #DEFAULT_SLICE_MILLIS}): the memory node withdraws
 * an arrival whose call timed out, so arriving again is safe; between calls the wait checks
 * whether the process is stopping (SIGTERM), so it ends within one slice, and it never holds the
 * control connection for long, so leaving the cluster is never stuck behind it. A wait ends with a
 * clear error once {@code --wait} is over, and says every {@link #DEFAULT_NOTE_EVERY_MILLIS} who
 * it still waits for.</li>
 * <li>A compute node that fails before it passed all barriers {@link #refuse refuses}: it arrives
 * at the next barrier it has not passed with a {@link RunNote} refusal carrying its reason and
 * hangs up at once (leaving the cluster, so its locks can be recovered and nothing waits on it).
 * The memory node keeps that arrival for the others; a release that carries a refusal makes every
 * other member fail at once with {@link PartnerRefusedException} naming the refuser and the reason.
 * Every live member must pass that barrier before any later one, so all of them learn it.</li>
 * <li>Member barriers are named after the run and a token drawn at the start (the nonce of the
 * lowest-numbered member), so a refusal left at a barrier of an earlier run of the same name is
 * never seen by a later run. The start barrier cannot be so named; a refusal waits there at most
 * {@link #START_REFUSAL_MILLIS}, which bounds how long it can be seen by a later run.</li>
 * </ul>
 *
 * <p>Not thread-safe: one thread (the command's) walks the barriers; {@code stopping} may be set
 * by any thread.
 */
public final class RunBarriers {
    /** Longest single barrier call. */
    public static final int DEFAULT_SLICE_MILLIS = 500;
    /** How often a long wait says what it waits for. */
    public static final long DEFAULT_NOTE_EVERY_MILLIS = 30_000;
    /** Longest time a refusal waits at the start barrier for the others (see the class comment). */
    public static final int START_REFUSAL_MILLIS = 60_000;
    /** How long a refusal's arrival waits for an immediate answer (a refusal of the arrival itself). */
    public static final int ANSWER_MILLIS = 500;
    /** Bytes the run token adds to member barrier names: '/', 8 hex digits, '/'. */
    public static final int TOKEN_NAME_BYTES = 10;
    /** Bytes of the start payload's nonce, before the caller's payload. */
    private static final int NONCE_BYTES = Long.BYTES;

    /** The control-plane calls the barriers are made of ({@code members} empty: a counting barrier). */
    public interface Calls {
        /**
         * Arrives and waits up to {@code waitMillis}; a round not released in time throws a
         * {@link ControlException} refused with {@link ErrorCode#TIMEOUT}, and the arrival is withdrawn.
         */
        BarrierRelease arrive(String name, int parties, Set<Integer> members, int waitMillis, byte[] payload);

        /**
         * Arrives, leaves the cluster without waiting, and leaves the arrival for the others for up
         * to {@code waitMillis}; a refusal of the arrival throws {@link ControlException}.
         */
        void arriveAndLeave(String name, int parties, Set<Integer> members, int waitMillis, byte[] payload);
    }

    /** The process is stopping (SIGTERM or SIGINT) while it waits at a barrier. */
    public static final class StoppedException extends RuntimeException {
        public StoppedException(String message) {
            super(message);
        }
    }

    /** Other members refused at a barrier: they cannot take part, and say why. */
    public static final class PartnerRefusedException extends RuntimeException {
        private final Map<Integer, String> reasons;

        PartnerRefusedException(String message, Map<Integer, String> reasons) {
            super(message);
            this.reasons = Collections.unmodifiableMap(new TreeMap<>(reasons));
        }

        /** Each refusing compute node's reason, by id. */
        public Map<Integer, String> reasons() {
            return reasons;
        }
    }

    private final String run;
    private final int self;
    private final int parties;
    private final List<String> steps;
    private final Calls calls;
    private final long waitMillis;
    private final int sliceMillis;
    private final long noteEveryMillis;
    private final BooleanSupplier stopping;
    private final Consumer<String> notes;
    private final long nonce;
    /** -1: before the start barrier; i: the next member barrier is {@code steps[i]}. */
    private int next = -1;
    private Set<Integer> members = Set.of();
    private String token;
    private boolean left;

    /**
     * @param run        the run's name (barrier names start with it)
     * @param self       this compute node's id
     * @param parties    compute nodes the run starts with ({@code --cns})
     * @param steps      the member barriers after the start, in order
     * @param calls      the control plane
     * @param waitMillis longest wait at one barrier ({@code --wait})
     * @param stopping   true once the process is stopping
     * @param notes      where progress lines go (stderr)
     */
    public RunBarriers(String run, int self, int parties, List<String> steps, Calls calls, long waitMillis,
                       BooleanSupplier stopping, Consumer<String> notes) {
        this(run, self, parties, steps, calls, waitMillis, DEFAULT_SLICE_MILLIS, DEFAULT_NOTE_EVERY_MILLIS, stopping, notes,
                new SplittableRandom().nextLong());
    }

    RunBarriers(String run, int self, int parties, List<String> steps, Calls calls, long waitMillis, int sliceMillis,
                long noteEveryMillis, BooleanSupplier stopping, Consumer<String> notes, long nonce) {
        if (parties < 1 || parties > ControlFrame.MAX_COMPUTE_NODES) {
            throw new IllegalArgumentException("a run of " + parties + " compute nodes");
        }
        if (waitMillis < 1 || sliceMillis < 1 || noteEveryMillis < 1) {
            throw new IllegalArgumentException("waits must be positive");
        }
        this.run = run;
        this.self = self;
        this.parties = parties;
        this.steps = List.copyOf(steps);
        if (new TreeSet<>(this.steps).size() != this.steps.size() || this.steps.contains("start")) {
            throw new IllegalArgumentException("member barrier steps must be distinct and not 'start': " + steps);
        }
        this.calls = calls;
        this.waitMillis = waitMillis;
        this.sliceMillis = sliceMillis;
        this.noteEveryMillis = noteEveryMillis;
        this.stopping = stopping;
        this.notes = notes;
        this.nonce = nonce;
    }

    /** The members fixed at the start (empty before it). */
    public Set<Integer> members() {
        return members;
    }

    /** The name of the barrier this compute node meets next, or null once it passed them all. */
    public String nextBarrier() {
        if (next < 0) {
            return run + "/start";
        }
        return next < steps.size() ? run + token + steps.get(next) : null;
    }

    /**
     * Waits at the start barrier for {@code parties} compute nodes; returns each one's payload by id
     * and fixes the members. Throws {@link PartnerRefusedException} if one refused.
     */
    public Map<Integer, byte[]> start(byte[] payload) {
        if (next != -1 || left) {
            throw new IllegalStateException("the start barrier is behind this compute node");
        }
        String name = nextBarrier();
        byte[] mine = ByteBuffer.allocate(NONCE_BYTES + payload.length).putLong(nonce).put(payload).array();
        BarrierRelease r;
        try {
            r = awaitSliced(name, parties, Set.of(), RunNote.takingPart(mine));
        } catch (ControlException e) {
            if (e.refusedWith(ErrorCode.STATE)) {
                throw new ControlException("compute node " + self + " (a run of " + parties + " compute nodes) cannot start"
                        + " run '" + run + "' with the compute nodes waiting there: " + e.getMessage(), e);
            }
            throw e;
        }
        Map<Integer, byte[]> withNonce = payloads(name, r);
        Map<Integer, byte[]> out = new LinkedHashMap<>();
        long first = 0;
        boolean any = false;
        for (Map.Entry<Integer, byte[]> e : withNonce.entrySet()) {
            byte[] b = e.getValue();
            if (b.length < NONCE_BYTES) {
                throw new IllegalStateException("compute node " + e.getKey() + " brought a start note without a run token:"
                        + " it runs another version of dmtree");
            }
            if (!any) {
                first = ByteBuffer.wrap(b).getLong();
                any = true;
            }
            out.put(e.getKey(), java.util.Arrays.copyOfRange(b, NONCE_BYTES, b.length));
        }
        members = Collections.unmodifiableSet(new TreeSet<>(out.keySet()));
        token = String.format(Locale.ROOT, "/%08x/", (int) (first ^ (first >>> 32)));
        next = 0;
        return out;
    }

    /**
     * Waits at member barrier {@code step} (the next one in order) until every member arrived or
     * left; returns the release with the payloads unwrapped. Throws {@link PartnerRefusedException}
     * if a member refused.
     */
    public BarrierRelease meet(String step, byte[] payload) {
        if (next < 0 || next >= steps.size() || !steps.get(next).equals(step) || left) {
            throw new IllegalStateException("barrier '" + step + "' is not this compute node's next one (" + nextBarrier()
                    + ")");
        }
        String name = nextBarrier();
        BarrierRelease r = awaitSliced(name, members.size(), members, RunNote.takingPart(payload));
        next++;
        return new BarrierRelease(payloads(name, r), r.departed());
    }

    /**
     * This compute node cannot go on: tells the others at its next barrier, with {@code reason}, and
     * leaves the cluster. Returns the barrier it told them at; empty when it passed every barrier
     * already, runs alone, or the memory node could not be told (unreachable, or it refused the
     * arrival).
     */
    public Optional<String> refuse(String reason) {
        String name = nextBarrier();
        if (name == null || left || (next < 0 ? parties : members.size()) < 2) {
            return Optional.empty(); // past every barrier, or nobody else to tell
        }
        left = true;
        byte[] note = RunNote.refusing(reason);
        try {
            if (next < 0) {
                int wait = (int) Math.min(waitMillis, START_REFUSAL_MILLIS);
                try {
                    calls.arriveAndLeave(name, parties, Set.of(), wait, note);
                } catch (ControlException e) {
                    if (!e.refusedWith(ErrorCode.STATE)) {
                        throw e;
                    }
                    // the others wait for another number of compute nodes (--cns differs): tell them at theirs
                    return refuseAtOtherCount(name, wait, note) ? Optional.of(name) : Optional.empty();
                }
            } else {
                calls.arriveAndLeave(name, members.size(), members, (int) Math.min(Integer.MAX_VALUE, waitMillis), note);
            }
            return Optional.of(name);
        } catch (ControlException e) {
            return Optional.empty();
        }
    }

    /**
     * The start barrier waits for another count than ours: the memory node refuses an arrival that
     * names other parties before it changes anything, so trying the other counts finds theirs.
     */
    private boolean refuseAtOtherCount(String name, int wait, byte[] note) {
        for (int p = 2; p <= ControlFrame.MAX_COMPUTE_NODES; p++) {
            if (p == parties) {
                continue;
            }
            try {
                calls.arriveAndLeave(name, p, Set.of(), wait, note);
                return true;
            } catch (ControlException e) {
                if (!e.refusedWith(ErrorCode.STATE)) {
                    return false;
                }
            }
        }
        return false;
    }

    private BarrierRelease awaitSliced(String name, int count, Set<Integer> who, byte[] note) {
        long begin = System.nanoTime();
        long deadline = begin + waitMillis * 1_000_000;
        long nextNote = begin + noteEveryMillis * 1_000_000;
        while (true) {
            if (stopping.getAsBoolean()) {
                throw new StoppedException("compute node " + self + " stopped while waiting at '" + name + "'");
            }
            long left = (deadline - System.nanoTime()) / 1_000_000;
            int wait = (int) Math.max(1, Math.min(sliceMillis, left));
            try {
                return calls.arrive(name, count, who, wait, note);
            } catch (ControlException e) {
                if (!e.refusedWith(ErrorCode.TIMEOUT)) {
                    throw e;
                }
                long now = System.nanoTime();
                if (now - deadline >= 0) {
                    throw new ControlException("compute node " + self + " gave up at '" + name + "' after "
                            + waitMillis / 1000 + " s (--wait): " + e.getMessage(), ErrorCode.TIMEOUT);
                }
                if (now - nextNote >= 0) {
                    nextNote = now + noteEveryMillis * 1_000_000;
                    notes.accept(String.format(Locale.ROOT, "cn %d: still waiting at '%s' after %d s (gives up after %d s):"
                            + " %s", self, name, (now - begin) / 1_000_000_000L, waitMillis / 1000, e.getMessage()));
                }
            }
        }
    }

    /** The payloads of a release by id, after checking that nobody refused. */
    private Map<Integer, byte[]> payloads(String name, BarrierRelease r) {
        Map<Integer, String> refusals = new TreeMap<>();
        Map<Integer, byte[]> out = new LinkedHashMap<>();
        for (Map.Entry<Integer, byte[]> e : r.arrivals().entrySet()) {
            byte[] note = e.getValue();
            if (RunNote.isRefusal(note)) {
                if (e.getKey() != self) {
                    refusals.put(e.getKey(), RunNote.reason(note));
                }
            } else {
                out.put(e.getKey(), RunNote.payload(note));
            }
        }
        if (!refusals.isEmpty()) {
            List<String> parts = new ArrayList<>();
            refusals.forEach((cn, why) -> parts.add("compute node " + cn + " cannot take part in run '" + run + "': " + why));
            throw new PartnerRefusedException("compute node " + self + " stops: " + String.join("; ", parts) + " (told at '"
                    + name + "')", refusals);
        }
        return out;
    }

    /** Bytes a run name may have so every barrier name fits the control frame. */
    public static int maxRunNameBytes(List<String> steps) {
        int longest = "start".length();
        for (String s : steps) {
            longest = Math.max(longest, s.getBytes(StandardCharsets.UTF_8).length + TOKEN_NAME_BYTES - 1);
        }
        return ControlFrame.MAX_BARRIER_NAME_BYTES - longest - 1;
    }
}
