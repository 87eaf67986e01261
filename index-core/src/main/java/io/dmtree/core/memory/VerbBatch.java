package io.dmtree.core.memory;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.Arrays;

/**
 * An ordered list of work requests posted together with {@link Verbs#post(VerbBatch)}. A carrier
 * applies them in list order and returns once all took effect; requests to one memory node cost
 * one round trip together. Reusable: {@link #clear()} and fill again; adding requests allocates
 * only when the batch grows past its largest size so far.
 *
 * <p>The batch keeps references to the buffers it is given: a WRITE's source must not change and a
 * READ's destination must not be read until {@code post} returns. CAS and FAA results (the word
 * before the atomic) are available from {@link #result(int)} after {@code post}.
 */
public final class VerbBatch {
    private VerbKind[] kinds = new VerbKind[4];
    private long[] addresses = new long[4];
    private Object[] buffers = new Object[4];
    private int[] offsets = new int[4];
    private int[] lengths = new int[4];
    private long[] operand1 = new long[4];
    private long[] operand2 = new long[4];
    private long[] results = new long[4];
    private int size;

    public VerbBatch read(long address, MutableDirectBuffer dst, int dstOffset, int length) {
        return add(VerbKind.READ, address, dst, dstOffset, length, 0, 0);
    }

    public VerbBatch write(long address, DirectBuffer src, int srcOffset, int length) {
        return add(VerbKind.WRITE, address, src, srcOffset, length, 0, 0);
    }

    /** Compare-and-swap; {@link #result(int)} gives the word found, equal to expected on success. */
    public VerbBatch cas(long address, long expected, long desired) {
        return add(VerbKind.CAS, address, null, 0, Long.BYTES, expected, desired);
    }

    /** Fetch-and-add; {@link #result(int)} gives the word before the add. */
    public VerbBatch faa(long address, long delta) {
        return add(VerbKind.FAA, address, null, 0, Long.BYTES, delta, 0);
    }

    private VerbBatch add(VerbKind kind, long address, Object buffer, int offset, int length, long op1, long op2) {
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length);
        }
        if (size == kinds.length) {
            grow();
        }
        kinds[size] = kind;
        addresses[size] = address;
        buffers[size] = buffer;
        offsets[size] = offset;
        lengths[size] = length;
        operand1[size] = op1;
        operand2[size] = op2;
        results[size] = 0;
        size++;
        return this;
    }

    private void grow() {
        int n = kinds.length * 2;
        kinds = Arrays.copyOf(kinds, n);
        addresses = Arrays.copyOf(addresses, n);
        buffers = Arrays.copyOf(buffers, n);
        offsets = Arrays.copyOf(offsets, n);
        lengths = Arrays.copyOf(lengths, n);
        operand1 = Arrays.copyOf(operand1, n);
        operand2 = Arrays.copyOf(operand2, n);
        results = Arrays.copyOf(results, n);
    }

    /** Appends every request of {@code other}, in order. */
    public VerbBatch addAll(VerbBatch other) {
        for (int i = 0; i < other.size; i++) {
            add(other.kinds[i], other.addresses[i], other.buffers[i], other.offsets[i], other.lengths[i],
                    other.operand1[i], other.operand2[i]);
        }
        return this;
    }

    public void clear() {
        Arrays.fill(buffers, 0, size, null);
        size = 0;
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public VerbKind kind(int i) {
        check(i);
        return kinds[i];
    }

    public long address(int i) {
        check(i);
        return addresses[i];
    }

    /** Destination of a READ. */
    public MutableDirectBuffer readBuffer(int i) {
        check(i);
        return (MutableDirectBuffer) buffers[i];
    }

    /** Source of a WRITE. */
    public DirectBuffer writeBuffer(int i) {
        check(i);
        return (DirectBuffer) buffers[i];
    }

    public int bufferOffset(int i) {
        check(i);
        return offsets[i];
    }

    public int length(int i) {
        check(i);
        return lengths[i];
    }

    /** CAS: expected word; FAA: delta. */
    public long operand1(int i) {
        check(i);
        return operand1[i];
    }

    /** CAS: desired word. */
    public long operand2(int i) {
        check(i);
        return operand2[i];
    }

    public long result(int i) {
        check(i);
        return results[i];
    }

    /** For carriers: records the word an atomic found. */
    public void setResult(int i, long value) {
        check(i);
        results[i] = value;
    }

    /** The number of distinct memory nodes the batch touches: its round trips. */
    public int memoryNodesTouched() {
        int count = 0;
        for (int i = 0; i < size; i++) {
            if (firstToMemoryNode(i)) {
                count++;
            }
        }
        return count;
    }

    /**
     * True when request {@code i} is the first of the batch to its memory node: where a carrier
     * starts that node's frame, and where a round trip is counted.
     */
    public boolean firstToMemoryNode(int i) {
        check(i);
        int mn = GlobalAddress.memoryNode(addresses[i]);
        for (int j = 0; j < i; j++) {
            if (GlobalAddress.memoryNode(addresses[j]) == mn) {
                return false;
            }
        }
        return true;
    }

    private void check(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("request " + i + " of a batch of " + size);
        }
    }
}
