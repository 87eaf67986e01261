package io.dmtree.core.tree;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.function.UnaryOperator;

/**
 * Conditional and read-modify-write operations on one key: each is one decision under the lock of
 * the leaf that holds the key ({@link BLinkTree#updateEntry}), so each is linearizable, at the
 * instant of the lock's hold, like a put or a delete.
 *
 * <p>Cost, uncontended: the three round trips of a put (lock, READ of the leaf, write-back with the
 * release) whether or not the condition holds; a condition that fails writes nothing and only
 * releases, which is the third round trip. A delete that empties a leaf below a quarter may merge,
 * as a delete does.
 *
 * <p>Values are the index's fixed width ({@link TreeConfig#valueBytes()}); wrong widths raise
 * {@link IllegalArgumentException} before any lock is taken. Returned arrays are fresh copies.
 */
public final class EntryUpdates {
    private final BLinkTree tree;
    private final int valueBytes;

    public EntryUpdates(BLinkTree tree) {
        this.tree = tree;
        this.valueBytes = tree.config().valueBytes();
    }

    /** Puts {@code value} unless the key is present; returns null when it put, else the current value (left as is). */
    public byte[] putIfAbsent(byte[] key, byte[] value) {
        Conditional u = new Conditional(Mode.PUT_IF_ABSENT, checked(value), null);
        tree.updateEntry(key, u);
        return u.previous;
    }

    /** Puts {@code value}; returns the value it replaced, or null when the key was absent. */
    public byte[] getAndPut(byte[] key, byte[] value) {
        Conditional u = new Conditional(Mode.PUT, checked(value), null);
        tree.updateEntry(key, u);
        return u.previous;
    }

    /** Deletes the key; returns the value it had, or null when it was absent. */
    public byte[] getAndDelete(byte[] key) {
        Conditional u = new Conditional(Mode.DELETE, null, null);
        tree.updateEntry(key, u);
        return u.previous;
    }

    /** Puts {@code value} only when the key is present; returns the value it replaced, or null (nothing put). */
    public byte[] replace(byte[] key, byte[] value) {
        Conditional u = new Conditional(Mode.REPLACE, checked(value), null);
        tree.updateEntry(key, u);
        return u.previous;
    }

    /** Compare-and-set: puts {@code value} only when the key's current value equals {@code expected}. */
    public boolean replace(byte[] key, byte[] expected, byte[] value) {
        Conditional u = new Conditional(Mode.COMPARE_AND_SET, checked(value), checked(expected));
        return tree.updateEntry(key, u) == EntryUpdate.Decision.PUT;
    }

    /** Deletes the key only when its current value equals {@code expected}; true when it did. */
    public boolean delete(byte[] key, byte[] expected) {
        Conditional u = new Conditional(Mode.COMPARE_AND_DELETE, null, checked(expected));
        return tree.updateEntry(key, u) == EntryUpdate.Decision.DELETE;
    }

    /**
     * Read-modify-write under the leaf's lock: {@code function} gets a copy of the current value
     * (null when absent) and returns the new one, or null to delete (or leave absent). Returns what
     * it returned. The function runs while the leaf is locked, so other writers of that leaf wait:
     * keep it short, and do not touch the index from it. If it throws, nothing is written.
     */
    public byte[] compute(byte[] key, UnaryOperator<byte[]> function) {
        if (function == null) {
            throw new IllegalArgumentException("compute needs a function");
        }
        Computed u = new Computed(function);
        tree.updateEntry(key, u);
        return u.result;
    }

    private byte[] checked(byte[] value) {
        if (value == null || value.length != valueBytes) {
            throw new IllegalArgumentException("value must be " + valueBytes + " bytes, got "
                    + (value == null ? "null" : value.length + " bytes"));
        }
        return value;
    }

    private byte[] copy(DirectBuffer current, int offset) {
        byte[] out = new byte[valueBytes];
        current.getBytes(offset, out);
        return out;
    }

    private boolean equal(DirectBuffer current, int offset, byte[] expected) {
        for (int i = 0; i < valueBytes; i++) {
            if (current.getByte(offset + i) != expected[i]) {
                return false;
            }
        }
        return true;
    }

    private enum Mode { PUT, PUT_IF_ABSENT, REPLACE, COMPARE_AND_SET, DELETE, COMPARE_AND_DELETE }

    /** One conditional operation: its condition, and the previous value it saw. */
    private final class Conditional implements EntryUpdate {
        final Mode mode;
        final UnsafeBuffer value;
        final byte[] expected;
        byte[] previous;

        Conditional(Mode mode, byte[] value, byte[] expected) {
            this.mode = mode;
            this.value = value == null ? null : new UnsafeBuffer(value);
            this.expected = expected;
        }

        @Override
        public Decision decide(DirectBuffer current, int valueOffset) {
            boolean present = current != null;
            previous = present ? copy(current, valueOffset) : null;
            return switch (mode) {
                case PUT -> Decision.PUT;
                case PUT_IF_ABSENT -> present ? Decision.KEEP : Decision.PUT;
                case REPLACE -> present ? Decision.PUT : Decision.KEEP;
                case COMPARE_AND_SET -> present && equal(current, valueOffset, expected) ? Decision.PUT : Decision.KEEP;
                case DELETE -> present ? Decision.DELETE : Decision.KEEP;
                case COMPARE_AND_DELETE -> present && equal(current, valueOffset, expected) ? Decision.DELETE : Decision.KEEP;
            };
        }

        @Override
        public DirectBuffer value() {
            return value;
        }
    }

    /** A read-modify-write by a caller's function. */
    private final class Computed implements EntryUpdate {
        final UnaryOperator<byte[]> function;
        byte[] result;
        UnsafeBuffer value;

        Computed(UnaryOperator<byte[]> function) {
            this.function = function;
        }

        @Override
        public Decision decide(DirectBuffer current, int valueOffset) {
            byte[] next = function.apply(current == null ? null : copy(current, valueOffset));
            if (next == null) {
                result = null;
                return current == null ? Decision.KEEP : Decision.DELETE;
            }
            checked(next);
            result = next.clone();
            value = new UnsafeBuffer(result.clone());
            return Decision.PUT;
        }

        @Override
        public DirectBuffer value() {
            return value;
        }
    }
}
