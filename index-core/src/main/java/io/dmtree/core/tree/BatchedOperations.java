package io.dmtree.core.tree;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.VerbBatch;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Operations on many keys at once, each key linearizable on its own (like a get or a put of it),
 * the batch as a whole not atomic: other operations may see some of a {@code putAll}'s keys and not
 * others, and a {@code getAll} may see an older state for one key than for another.
 *
 * <h2>getAll: one round trip per memory node</h2>
 * Every key whose leaf the index cache names is grouped by that leaf, and every distinct leaf is
 * read in one {@link VerbBatch}: one round trip to each memory node touched, whatever the number
 * of keys. A leaf image is used for a key only when it is consistent (checksum), live, a leaf, and
 * its fences hold the key, which is the test a lookup applies, so each answer is the state of the
 * key's leaf at the instant it was read. Keys left over (a cache miss, a stale entry, a torn
 * image) are looked up one leaf at a time the ordinary way, and each leaf read so answers every
 * other left-over key it holds.
 *
 * <h2>putAll: one lock hold per leaf</h2>
 * The keys are sorted (a repeated key keeps its last value) and put in runs: the run that starts at
 * a key takes every following key that lies in the same leaf and finds a slot there, under one
 * hold of the leaf's lock, with one READ and one write-back ({@link BLinkTree#putRun}): three round
 * trips per leaf instead of three per key. A full leaf splits as for a put.
 */
public final class BatchedOperations {
    private final BLinkTree tree;
    private final NodeLayout layout;
    private final int keyBytes;
    private final int valueBytes;

    public BatchedOperations(BLinkTree tree) {
        this.tree = tree;
        this.layout = tree.config().layout();
        this.keyBytes = layout.keyBytes();
        this.valueBytes = layout.valueBytes();
    }

    /** The values of {@code keys}, in their order: a fresh copy each, null for an absent key. */
    public byte[][] getAll(byte[][] keys) {
        int n = keys.length;
        for (byte[] key : keys) {
            checkKey(key);
        }
        byte[][] values = new byte[n][];
        boolean[] answered = new boolean[n];
        int[] leafOf = new int[n];
        Map<Long, Integer> distinct = new HashMap<>();
        long[] leaves = new long[Math.max(1, n)];
        long[] eras = new long[Math.max(1, n)];
        long[] keyEras = new long[Math.max(1, n)];
        for (int i = 0; i < n; i++) {
            long leaf = tree.cachedLeaf(keys[i], keyEras, i);
            if (leaf == GlobalAddress.NULL) {
                leafOf[i] = -1;
                continue;
            }
            long era = keyEras[i];
            Integer index = distinct.get(leaf);
            if (index == null) {
                index = distinct.size();
                distinct.put(leaf, index);
                leaves[index] = leaf;
                eras[index] = era;
            } else {
                eras[index] = Math.min(eras[index], era);
            }
            leafOf[i] = index;
        }
        int count = distinct.size();
        NodeImage[] images = new NodeImage[count];
        if (count > 0) {
            VerbBatch batch = new VerbBatch();
            for (int j = 0; j < count; j++) {
                images[j] = new NodeImage(layout);
                batch.read(leaves[j], images[j].buffer(), 0, layout.nodeBytes());
            }
            tree.verbs().post(batch);
            boolean[] usable = new boolean[count];
            for (int j = 0; j < count; j++) {
                NodeImage image = images[j];
                usable[j] = image.checksumValid() && !image.isRemoved() && image.level() == 0
                        && !tree.bornAfter(image, eras[j]); // a reused block: the path is read afresh below
            }
            for (int i = 0; i < n; i++) {
                if (leafOf[i] >= 0 && usable[leafOf[i]]) {
                    answered[i] = answerFrom(images[leafOf[i]], keys[i], values, i);
                }
            }
        }
        NodeImage leaf = new NodeImage(layout);
        for (int i = 0; i < n; i++) {
            if (answered[i]) {
                continue;
            }
            tree.readLeaf(keys[i], leaf);
            answered[i] = answerFrom(leaf, keys[i], values, i);
            if (!answered[i]) {
                throw new IllegalStateException("the leaf read for a key does not hold it");
            }
            for (int j = i + 1; j < n; j++) {
                if (!answered[j]) {
                    answered[j] = answerFrom(leaf, keys[j], values, j);
                }
            }
        }
        return values;
    }

    /** Answers key {@code i} from {@code leaf} when its fences hold the key; false otherwise. */
    private boolean answerFrom(NodeImage leaf, byte[] key, byte[][] values, int i) {
        UnsafeBuffer k = new UnsafeBuffer(key);
        if (leaf.belowLow(k, 0) || leaf.atOrAboveHigh(k, 0)) {
            return false;
        }
        int slot = leaf.findLeafKey(k, 0);
        if (slot >= 0) {
            byte[] v = new byte[valueBytes];
            leaf.buffer().getBytes(leaf.leafValueOffset(slot), v);
            values[i] = v;
        }
        return true;
    }

    /** Puts every {@code keys[i] -> values[i]}; a key given twice gets its last value. */
    public void putAll(byte[][] keys, byte[][] values) {
        if (keys.length != values.length) {
            throw new IllegalArgumentException(keys.length + " keys but " + values.length + " values");
        }
        int n = keys.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            checkKey(keys[i]);
            if (values[i] == null || values[i].length != valueBytes) {
                throw new IllegalArgumentException("value must be " + valueBytes + " bytes, got "
                        + (values[i] == null ? "null" : values[i].length + " bytes"));
            }
            order[i] = i;
        }
        // by key, and for equal keys the later one first, so the dedup below keeps the last value
        Arrays.sort(order, (a, b) -> {
            int c = Arrays.compareUnsigned(keys[a], keys[b]);
            return c != 0 ? c : Integer.compare(b, a);
        });
        byte[][] sortedKeys = new byte[n][];
        DirectBuffer[] sortedValues = new DirectBuffer[n];
        int m = 0;
        for (int i = 0; i < n; i++) {
            int k = order[i];
            if (m > 0 && Arrays.equals(sortedKeys[m - 1], keys[k])) {
                continue;
            }
            sortedKeys[m] = keys[k].clone();
            sortedValues[m] = new UnsafeBuffer(values[k].clone());
            m++;
        }
        for (int i = 0; i < m; ) {
            i += tree.putRun(sortedKeys, sortedValues, i, m);
        }
    }

    private void checkKey(byte[] key) {
        if (key == null || key.length != keyBytes) {
            throw new IllegalArgumentException("key must be " + keyBytes + " bytes, got "
                    + (key == null ? "null" : key.length + " bytes"));
        }
    }
}
