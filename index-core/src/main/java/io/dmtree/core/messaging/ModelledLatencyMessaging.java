package io.dmtree.core.messaging;

import io.dmtree.core.memory.ModelledLatencyVerbs;
import io.dmtree.core.memory.RemoteAccessException;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * CN-to-CN messaging over a modelled network: every message to another compute node reaches the
 * wrapped endpoint no sooner than one modelled one-way time after {@link #send} took it, as if it
 * had been on a wire that long; {@link #send} itself returns at once, as a posted SEND does. The
 * partner of {@link ModelledLatencyVerbs} (a round trip is two one-way times): figures taken with
 * it are modelled, and must be labelled so.
 *
 * <p>Algorithm: {@link #send} copies the message into the next slot of a ring of preallocated
 * slots (no allocation per message) stamped with its due time, {@code now + oneWay}. One courier
 * thread takes slots from the head in ring order, parks until the head's due time and hands it to
 * the wrapped endpoint. Invariants:
 * <ul>
 *   <li>Slots are filled in the order senders took the ring's lock, and due times are that order
 *   plus a constant, so they never decrease along the ring; the courier delivers in ring order,
 *   hence messages of one sender to one receiver keep their send order (the {@link CnMessaging}
 *   contract), and each waits at least the one-way time (parking may add the scheduler's
 *   wake-up latency, never subtract).</li>
 *   <li>{@code head <= tail <= head + capacity}; a slot in {@code [head, tail)} is owned by the
 *   courier and is not written by senders. A sender that finds the ring full waits for the courier,
 *   so a message is never dropped while the endpoint is open (back-pressure as on a full link).</li>
 *   <li>Messages to this compute node itself never cross a network and are delivered at once.</li>
 *   <li>A delivery that fails on the courier (the receiver is unreachable) is kept per receiver
 *   and thrown by the next {@link #send} to that receiver, so the failure reaches a sender.</li>
 * </ul>
 * Messages still in flight when the endpoint is closed are dropped (delivery is at most once).
 */
public final class ModelledLatencyMessaging implements CnMessaging {
    /** Messages in flight at most; a sender waits while the ring is full. */
    public static final int DEFAULT_CAPACITY = 1024;

    private final CnMessaging inner;
    private final long oneWayNanos;
    private final int capacity;
    private final UnsafeBuffer[] payloads;
    private final long[] due;
    private final int[] receivers;
    private final int[] lengths;
    private final Object ring = new Object();
    private final AtomicReferenceArray<RuntimeException> failures = new AtomicReferenceArray<>(1 << 16);
    private final Thread courier;
    private long head;
    private long tail;
    private long sent;
    private volatile boolean closed;

    /** Delays each message to another compute node by {@code oneWayNanos} ({@code rttNanos / 2} of the verbs). */
    public ModelledLatencyMessaging(CnMessaging inner, long oneWayNanos) {
        this(inner, oneWayNanos, DEFAULT_CAPACITY);
    }

    public ModelledLatencyMessaging(CnMessaging inner, long oneWayNanos, int capacity) {
        if (oneWayNanos < 0) {
            throw new IllegalArgumentException("modelled one-way time must not be negative: " + oneWayNanos);
        }
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.inner = inner;
        this.oneWayNanos = oneWayNanos;
        this.capacity = capacity;
        this.payloads = new UnsafeBuffer[capacity];
        for (int i = 0; i < capacity; i++) {
            payloads[i] = new UnsafeBuffer(new byte[MAX_MESSAGE_BYTES]);
        }
        this.due = new long[capacity];
        this.receivers = new int[capacity];
        this.lengths = new int[capacity];
        this.courier = new Thread(this::deliverLoop, "dmtree-cn" + inner.self() + "-modelled-wire");
        courier.setDaemon(true);
        courier.start();
    }

    /** The modelled one-way time added to each message. */
    public long oneWayNanos() {
        return oneWayNanos;
    }

    @Override
    public int self() {
        return inner.self();
    }

    @Override
    public void send(int toCn, DirectBuffer message, int offset, int length) {
        CnMessaging.checkSend(closed, inner.self(), length);
        if (toCn >= 0 && toCn < failures.length()) {
            RuntimeException f = failures.getAndSet(toCn, null);
            if (f != null) {
                throw new RemoteAccessException("an earlier message to compute node " + toCn + " was not delivered: "
                        + f.getMessage(), f);
            }
        }
        if (toCn == inner.self()) {
            inner.send(toCn, message, offset, length);
            synchronized (ring) {
                sent++;
            }
            return;
        }
        boolean wake;
        synchronized (ring) {
            while (tail - head == capacity) {
                if (closed) {
                    throw new IllegalStateException("messaging endpoint of compute node " + inner.self() + " is closed");
                }
                try {
                    ring.wait(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RemoteAccessException("interrupted while waiting for room on the modelled wire");
                }
            }
            int s = (int) (tail % capacity);
            payloads[s].putBytes(0, message, offset, length);
            lengths[s] = length;
            receivers[s] = toCn;
            due[s] = System.nanoTime() + oneWayNanos;
            wake = tail == head;
            tail++;
            sent++;
        }
        if (wake) {
            LockSupport.unpark(courier);
        }
    }

    private void deliverLoop() {
        while (!closed) {
            int s;
            synchronized (ring) {
                if (head == tail) {
                    s = -1;
                } else {
                    s = (int) (head % capacity);
                }
            }
            if (s < 0) {
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(10));
                continue;
            }
            long wait = due[s] - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(this, wait);
                continue; // woken early or spuriously: look at the head again
            }
            int to = receivers[s];
            try {
                inner.send(to, payloads[s], 0, lengths[s]);
            } catch (RuntimeException e) {
                if (closed) {
                    return;
                }
                if (to >= 0 && to < failures.length()) {
                    failures.compareAndSet(to, null, e);
                }
            }
            synchronized (ring) {
                head++;
                ring.notifyAll();
            }
        }
    }

    @Override
    public void onMessage(MessageHandler handler) {
        inner.onMessage(handler);
    }

    @Override
    public long messagesSent() {
        synchronized (ring) {
            return sent;
        }
    }

    /** Messages taken by {@link #send} and not yet handed to the wrapped endpoint. */
    public int inFlight() {
        synchronized (ring) {
            return (int) (tail - head);
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(courier);
        synchronized (ring) {
            ring.notifyAll();
        }
        try {
            courier.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        inner.close();
    }
}
