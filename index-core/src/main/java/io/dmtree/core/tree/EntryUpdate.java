package io.dmtree.core.tree;

import org.agrona.DirectBuffer;

/**
 * A decision about one key's entry, taken under the lock of the leaf that holds the key
 * ({@link BLinkTree#updateEntry}): the building block of the conditional and read-modify-write
 * operations ({@link EntryUpdates}).
 *
 * <p>{@link #decide} runs while this compute node holds the leaf's lock: it must be short, must not
 * block, and must not call into the tree (a tree write operation re-entered on its own thread is
 * refused). If it throws, the lock is released and nothing is written.
 */
interface EntryUpdate {
    /** What to do with the entry. */
    enum Decision {
        /** Leave it as it is (absent stays absent). */
        KEEP,
        /** Insert or overwrite it with {@link #value()}. */
        PUT,
        /** Remove it (nothing happens to an absent key). */
        DELETE
    }

    /**
     * Decides, seeing the key's current value at {@code valueOffset} of {@code current}, or
     * {@code current == null} when the key is absent. The buffer is the leaf's image: valid only
     * during the call, and not to be written.
     */
    Decision decide(DirectBuffer current, int valueOffset);

    /** After {@link Decision#PUT}: the new value, {@code valueBytes} from {@link #valueOffset()}. */
    DirectBuffer value();

    default int valueOffset() {
        return 0;
    }
}
