package io.dmtree.core.tree;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/**
 * Point operations with values of any length from 0 to {@link ValueLayout#MAX_VALUE_BYTES} over an
 * index of {@link ValueFormat#VARIABLE} values: a value up to the slot's inline threshold is kept
 * in the leaf's value slot, a longer one in a value block the slot describes ({@link ValueLayout}).
 *
 * <h2>Algorithm and invariants</h2>
 * <ul>
 *   <li><b>Lookup</b>: the tree's lock-free leaf read (1 READ when the leaf's address is cached)
 *   yields the slot from a consistent leaf image; an out-of-line slot costs one more READ, of the
 *   value block, whose bytes must match the descriptor's CRC32C, length, magic and key. A
 *   mismatch means the block was freed (and perhaps handed out again) after the leaf was read:
 *   the lookup reads the leaf again (bounded). So a lookup returns a value the key had at the
 *   instant its leaf was read: lookups stay linearizable at that read.</li>
 *   <li><b>Update</b>: every change is one decision under the leaf's lock
 *   ({@link BLinkTree#updateEntry}), so updates stay linearizable like the tree's. An
 *   unconditional put of a long value writes its block before it takes the lock (the block is
 *   named by nothing yet, so nobody reads it); a conditional one, or a read-modify-write, writes
 *   its block under the lock once its decision is known. A block whose descriptor did not go in
 *   (the condition failed) is freed at once.</li>
 *   <li><b>Freeing</b>: a descriptor leaves its leaf only under the leaf's lock, so the writer
 *   whose write-back dropped it (an overwrite or a delete) is the one member that frees its run,
 *   right after that write-back ({@link NodeAllocator#freeValue}). Value runs are cut from
 *   reserve blocks or from this member's own spare runs (freed value runs it keeps, recorded
 *   "spare value", which nobody else claims), never from the shared pool: so no node pointer
 *   ever named a value block, the reuse era is not needed for them, and a reader holding a
 *   dropped descriptor detects a reused block by its checksum. This holds whether node reuse is
 *   on or off. Spare runs beyond a bound go to the shared pool, where they may become nodes
 *   (with a born era, as every pooled block) but never values again.</li>
 *   <li><b>Failures</b>: a member that dies after allocating a run and before its leaf
 *   write-back, or after the write-back and before freeing the old run, leaves a run no leaf
 *   names; {@link MemoryReclaim} frees it (it asks, under the lock of the leaf of the key the
 *   block records, whether that leaf names it).</li>
 * </ul>
 *
 * <p>Cost, uncontended and with the leaf address cached: a lookup 1 READ (inline) or 2 (out of
 * line); a put or delete the tree's 3 round trips, plus 1 for a long new value (the run's block
 * words and the block, posted together), plus 1 per block (a CAS of its word) to free a long old
 * value.
 * Keys are the index's fixed width, or of any length up to its maximum in an index of
 * variable-length keys ({@link KeyLayout}: this class encodes and decodes them, so callers see
 * their own keys); keys or values above the maximum, or null, raise
 * {@link IllegalArgumentException} before anything is written. Thread-safe; returned arrays are
 * fresh copies.
 */
public final class VariableValues {
    /** A lookup that meets this many stale or torn value blocks in a row under one descriptor gives up. */
    static final int MAX_STALE_READS = 10_000;

    private final BLinkTree tree;
    private final Verbs verbs;
    private final NodeAllocator allocator;
    private final ValueLayout layout;
    /** The layout of variable-length keys, or null when keys are the index's fixed width. */
    private final KeyLayout keys;
    private final int keyBytes;
    private final int slotBytes;
    private final ThreadLocal<Scratch> scratch;
    private final AtomicLong staleReads = new AtomicLong();
    private final AtomicLong blocksWritten = new AtomicLong();
    private final AtomicLong blocksFreed = new AtomicLong();

    /** Per-thread buffers: one slot and one value block, grown as needed. */
    private static final class Scratch {
        final UnsafeBuffer slot;
        UnsafeBuffer block = new UnsafeBuffer(new byte[256]);

        Scratch(int slotBytes) {
            slot = new UnsafeBuffer(new byte[slotBytes]);
        }

        UnsafeBuffer block(int bytes) {
            if (block.capacity() < bytes) {
                block = new UnsafeBuffer(new byte[Math.max(bytes, block.capacity() * 2)]);
            }
            return block;
        }
    }

    public VariableValues(BLinkTree tree) {
        TreeConfig config = tree.config();
        if (!config.variableValues()) {
            throw new IllegalArgumentException("this index stores fixed-width values of " + config.valueBytes()
                    + " bytes; variable-length values need an index created with the VARIABLE value format");
        }
        this.tree = tree;
        this.verbs = tree.verbs();
        this.allocator = tree.allocator();
        this.layout = new ValueLayout(config);
        this.keys = config.variableKeys() ? new KeyLayout(config.keyBytes()) : null;
        this.keyBytes = config.keyBytes();
        this.slotBytes = config.valueBytes();
        this.scratch = ThreadLocal.withInitial(() -> new Scratch(slotBytes));
    }

    public ValueLayout layout() {
        return layout;
    }

    /** The layout of variable-length keys, or null when this index's keys are fixed-width. */
    public KeyLayout keyLayout() {
        return keys;
    }

    /** The tree's key slot for {@code key}: the key itself (fixed width), or its {@link KeyLayout} encoding. */
    private byte[] stored(byte[] key) {
        if (keys != null) {
            return keys.encode(key);
        }
        if (key == null || key.length != keyBytes) {
            throw new IllegalArgumentException("key must be " + keyBytes + " bytes, got "
                    + (key == null ? "null" : key.length + " bytes"));
        }
        return key;
    }

    private byte[] userKey(byte[] stored) {
        return keys == null ? stored : keys.decode(stored);
    }

    public BLinkTree tree() {
        return tree;
    }

    /** Value blocks whose checksum did not match the descriptor read just before (each retried). */
    public long staleReads() {
        return staleReads.get();
    }

    public long blocksWritten() {
        return blocksWritten.get();
    }

    public long blocksFreed() {
        return blocksFreed.get();
    }

    // ------------------------------------------------------------------ lookups

    /** The key's value, or null when absent. */
    public byte[] get(byte[] key) {
        return getStored(stored(key));
    }

    private byte[] getStored(byte[] key) {
        Scratch s = scratch.get();
        long lastAddress = GlobalAddress.NULL;
        int sameDescriptor = 0;
        while (true) {
            if (!tree.get(key, s.slot, 0)) {
                return null;
            }
            if (!ValueLayout.outOfLine(s.slot, 0)) {
                return inline(s.slot, 0);
            }
            byte[] value = readBlock(key, s.slot, 0, s);
            if (value != null) {
                return value;
            }
            staleReads.incrementAndGet();
            long address = ValueLayout.address(s.slot, 0);
            sameDescriptor = address == lastAddress ? sameDescriptor + 1 : 0;
            lastAddress = address;
            if (sameDescriptor >= MAX_STALE_READS) {
                throw new IllegalStateException("the value block " + GlobalAddress.toString(address) + " of key "
                        + Arrays.toString(key) + " never matched its descriptor's checksum: it is corrupt");
            }
        }
    }

    /**
     * The value of the entry at {@code valueOffset} of {@code slot} (a slot of a consistent leaf
     * image), or null when its value block no longer matches (read the leaf again).
     */
    private byte[] resolve(byte[] key, DirectBuffer slot, int valueOffset) {
        if (!ValueLayout.outOfLine(slot, valueOffset)) {
            return inline(slot, valueOffset);
        }
        byte[] value = readBlock(key, slot, valueOffset, scratch.get());
        if (value == null) {
            staleReads.incrementAndGet();
        }
        return value;
    }

    private static byte[] inline(DirectBuffer slot, int offset) {
        byte[] out = new byte[ValueLayout.length(slot, offset)];
        slot.getBytes(offset + ValueLayout.INLINE_VALUE_OFFSET, out);
        return out;
    }

    /** Reads and checks the block a descriptor names; null when it does not hold that value any more. */
    private byte[] readBlock(byte[] key, DirectBuffer slot, int offset, Scratch s) {
        int len = ValueLayout.length(slot, offset);
        long address = ValueLayout.address(slot, offset);
        int bytes = layout.blockBytes(len);
        UnsafeBuffer block = s.block(bytes);
        verbs.read(address, block, 0, bytes);
        if (block.getInt(ValueLayout.BLOCK_MAGIC_OFFSET) != ValueLayout.BLOCK_MAGIC
                || block.getInt(ValueLayout.BLOCK_LENGTH_OFFSET) != len
                || ValueLayout.crc32c(block, 0, bytes) != ValueLayout.crc(slot, offset)) {
            return null;
        }
        for (int i = 0; i < keyBytes; i++) {
            if (block.getByte(ValueLayout.BLOCK_KEY_OFFSET + i) != key[i]) {
                return null;
            }
        }
        byte[] out = new byte[len];
        block.getBytes(layout.blockValueOffset(), out);
        return out;
    }

    /** One entry a scan returned. */
    public record Entry(byte[] key, byte[] value) {
    }

    /**
     * Up to {@code limit} entries with {@code from <= key < toExclusive} (no upper bound when null) in
     * key order, weakly consistent like the tree's scan ({@link BLinkTree#scan}): the leaf images
     * come from the scan, and a long value whose block changed after its leaf was read is read
     * again by its own lookup (the entry is then left out if the key is gone by then).
     */
    public java.util.List<Entry> scan(byte[] from, byte[] toExclusive, int limit) {
        java.util.List<byte[]> found = new java.util.ArrayList<>();
        java.util.List<byte[]> slots = new java.util.ArrayList<>();
        tree.scan(stored(from), toExclusive == null ? null : stored(toExclusive), limit, (buffer, keyOffset, valueOffset) -> {
            byte[] k = new byte[keyBytes];
            buffer.getBytes(keyOffset, k);
            byte[] slot = new byte[slotBytes];
            buffer.getBytes(valueOffset, slot);
            found.add(k);
            slots.add(slot);
            return true;
        });
        java.util.List<Entry> out = new java.util.ArrayList<>(found.size());
        for (int i = 0; i < found.size(); i++) {
            byte[] v = resolve(found.get(i), new UnsafeBuffer(slots.get(i)), 0);
            if (v == null) {
                v = getStored(found.get(i));
            }
            if (v != null) {
                out.add(new Entry(userKey(found.get(i)), v));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ updates

    /** Inserts or replaces; true when the key was new. */
    public boolean put(byte[] key, byte[] value) {
        Change c = new Change(key, Rule.PUT, checked(value), null, null);
        c.prewrite();
        return apply(c) && !c.present;
    }

    /** Puts {@code value}; returns the value it replaced, or null when the key was absent. */
    public byte[] getAndPut(byte[] key, byte[] value) {
        Change c = new Change(key, Rule.GET_AND_PUT, checked(value), null, null);
        c.prewrite();
        apply(c);
        return c.previous;
    }

    /** Puts {@code value} unless the key is present; returns null when it put, else the current value. */
    public byte[] putIfAbsent(byte[] key, byte[] value) {
        Change c = new Change(key, Rule.PUT_IF_ABSENT, checked(value), null, null);
        apply(c);
        return c.previous;
    }

    /** Puts {@code value} only when the key is present; returns the value it replaced, or null. */
    public byte[] replace(byte[] key, byte[] value) {
        Change c = new Change(key, Rule.REPLACE, checked(value), null, null);
        apply(c);
        return c.previous;
    }

    /** Compare-and-set: puts {@code value} only when the current value equals {@code expected}. */
    public boolean replace(byte[] key, byte[] expected, byte[] value) {
        Change c = new Change(key, Rule.COMPARE_AND_SET, checked(value), checked(expected), null);
        return apply(c) && c.decision == EntryUpdate.Decision.PUT;
    }

    /** Removes the key; true when it was present. */
    public boolean delete(byte[] key) {
        Change c = new Change(key, Rule.DELETE, null, null, null);
        apply(c);
        return c.present;
    }

    /** Removes the key; returns the value it had, or null when absent. */
    public byte[] getAndDelete(byte[] key) {
        Change c = new Change(key, Rule.GET_AND_DELETE, null, null, null);
        apply(c);
        return c.previous;
    }

    /** Removes the key only when its value equals {@code expected}; true when it did. */
    public boolean delete(byte[] key, byte[] expected) {
        Change c = new Change(key, Rule.COMPARE_AND_DELETE, null, checked(expected), null);
        apply(c);
        return c.decision == EntryUpdate.Decision.DELETE && c.present;
    }

    /**
     * Read-modify-write under the leaf's lock: {@code function} gets the current value (null when
     * absent) and returns the new one, or null to delete (or leave absent); returns what it
     * returned. It runs while the leaf is locked: keep it short and do not touch the index from it.
     * If it throws, nothing is written.
     */
    public byte[] compute(byte[] key, UnaryOperator<byte[]> function) {
        if (function == null) {
            throw new IllegalArgumentException("compute needs a function");
        }
        Change c = new Change(key, Rule.COMPUTE, null, null, function);
        apply(c);
        return c.result;
    }

    private byte[] checked(byte[] value) {
        if (value == null) {
            throw new IllegalArgumentException("a value is needed (an empty array for an empty value)");
        }
        if (value.length > ValueLayout.MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("value of " + value.length + " bytes is longer than the maximum of "
                    + ValueLayout.MAX_VALUE_BYTES + " bytes");
        }
        return value;
    }

    /** Runs the change under the leaf's lock, then frees the value run it dropped; true unless it threw. */
    private boolean apply(Change c) {
        try {
            c.decision = tree.updateEntry(c.key, c);
        } catch (RuntimeException | Error e) {
            if (c.newAddress != GlobalAddress.NULL && !c.published) {
                free(c.newAddress, c.newBytes); // named by no leaf: the decision threw before the write-back
            }
            throw e;
        }
        boolean dropped = c.decision == EntryUpdate.Decision.PUT || (c.decision == EntryUpdate.Decision.DELETE && c.present);
        if (dropped && c.oldAddress != GlobalAddress.NULL) {
            free(c.oldAddress, c.oldBytes);
        }
        if (c.decision != EntryUpdate.Decision.PUT && c.newAddress != GlobalAddress.NULL) {
            free(c.newAddress, c.newBytes);
        }
        return true;
    }

    private void free(long address, int bytes) {
        blocksFreed.addAndGet(allocator.freeValue(address, bytes));
    }

    private enum Rule { PUT, GET_AND_PUT, PUT_IF_ABSENT, REPLACE, COMPARE_AND_SET, DELETE, GET_AND_DELETE, COMPARE_AND_DELETE, COMPUTE }

    /** One change of one key: its rule, what it saw under the lock, and the value runs involved. */
    private final class Change implements EntryUpdate {
        final byte[] key;
        final Rule rule;
        final byte[] value;
        final byte[] expected;
        final UnaryOperator<byte[]> function;
        final UnsafeBuffer slot = new UnsafeBuffer(new byte[slotBytes]);
        EntryUpdate.Decision decision;
        boolean present;
        byte[] previous;
        byte[] result;
        /** The out-of-line run the key had (when present), and the one written for the new value. */
        long oldAddress = GlobalAddress.NULL;
        int oldBytes;
        long newAddress = GlobalAddress.NULL;
        int newBytes;
        /** The slot {@link #slot} holds was handed to the tree for writing. */
        boolean published;

        Change(byte[] key, Rule rule, byte[] value, byte[] expected, UnaryOperator<byte[]> function) {
            this.key = stored(key);
            this.rule = rule;
            this.value = value;
            this.expected = expected;
            this.function = function;
        }

        /** Writes the new value's slot (and block, when long) before the lock is taken. */
        void prewrite() {
            encode(value);
        }

        private void encode(byte[] v) {
            slot.setMemory(0, slotBytes, (byte) 0);
            if (v.length <= layout.inlineThreshold()) {
                slot.putInt(ValueLayout.LENGTH_OFFSET, v.length);
                slot.putBytes(ValueLayout.INLINE_VALUE_OFFSET, v);
                return;
            }
            int bytes = layout.blockBytes(v.length);
            UnsafeBuffer block = new UnsafeBuffer(new byte[bytes]);
            block.putInt(ValueLayout.BLOCK_MAGIC_OFFSET, ValueLayout.BLOCK_MAGIC);
            block.putInt(ValueLayout.BLOCK_LENGTH_OFFSET, v.length);
            block.putBytes(ValueLayout.BLOCK_KEY_OFFSET, key);
            block.putBytes(layout.blockValueOffset(), v);
            long address = allocator.allocateValue(bytes, block); // its words and the block: one round trip
            newAddress = address;
            newBytes = bytes;
            blocksWritten.incrementAndGet();
            slot.putInt(ValueLayout.LENGTH_OFFSET, ValueLayout.OUT_OF_LINE | v.length);
            slot.putInt(ValueLayout.CRC_OFFSET, ValueLayout.crc32c(block, 0, bytes));
            slot.putLong(ValueLayout.ADDRESS_OFFSET, address);
        }

        @Override
        public Decision decide(DirectBuffer current, int valueOffset) {
            present = current != null;
            oldAddress = GlobalAddress.NULL;
            if (present && ValueLayout.outOfLine(current, valueOffset)) {
                oldAddress = ValueLayout.address(current, valueOffset);
                oldBytes = layout.blockBytes(ValueLayout.length(current, valueOffset));
            }
            byte[] seen = null;
            if (present && rule != Rule.PUT && rule != Rule.DELETE) {
                seen = currentValue(current, valueOffset);
            }
            if (rule != Rule.PUT && rule != Rule.DELETE && rule != Rule.COMPARE_AND_SET && rule != Rule.COMPARE_AND_DELETE) {
                previous = seen;
            }
            byte[] next;
            switch (rule) {
                case PUT, GET_AND_PUT -> {
                    published = true;
                    return Decision.PUT; // slot written by prewrite
                }
                case PUT_IF_ABSENT -> next = present ? null : value;
                case REPLACE -> next = present ? value : null;
                case COMPARE_AND_SET -> next = present && Arrays.equals(seen, expected) ? value : null;
                case DELETE, GET_AND_DELETE -> {
                    return present ? Decision.DELETE : Decision.KEEP;
                }
                case COMPARE_AND_DELETE -> {
                    return present && Arrays.equals(seen, expected) ? Decision.DELETE : Decision.KEEP;
                }
                case COMPUTE -> {
                    next = function.apply(seen == null ? null : seen.clone());
                    if (next == null) {
                        result = null;
                        return present ? Decision.DELETE : Decision.KEEP;
                    }
                    checked(next);
                    result = next.clone();
                }
                default -> throw new IllegalStateException("unknown rule " + rule);
            }
            if (next == null) {
                return Decision.KEEP;
            }
            encode(next);
            published = true;
            return Decision.PUT;
        }

        /** The current value under the lock: its block cannot change while the lock is held. */
        private byte[] currentValue(DirectBuffer current, int valueOffset) {
            if (!ValueLayout.outOfLine(current, valueOffset)) {
                return inline(current, valueOffset);
            }
            byte[] v = readBlock(key, current, valueOffset, scratch.get());
            if (v == null) {
                throw new IllegalStateException("the value block " + GlobalAddress.toString(ValueLayout.address(current,
                        valueOffset)) + " named by a locked leaf does not match its descriptor: it is corrupt");
            }
            return v;
        }

        @Override
        public DirectBuffer value() {
            return slot;
        }
    }
}
