package io.dmtree.cn.map;

import io.dmtree.cn.Cursor;
import io.dmtree.cn.DmIndex;

import java.util.AbstractCollection;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableSet;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A {@link ConcurrentNavigableMap} over a {@link DmIndex}, keys and values turned into the index's
 * fixed-width bytes by {@link Codec}s, so that code written against
 * {@link java.util.concurrent.ConcurrentSkipListMap} runs on dmtree. Every view (sub-maps, head and
 * tail maps, the descending map, key sets) is a window onto the same index, as in the JDK.
 *
 * <h2>Consistency, as in ConcurrentSkipListMap</h2>
 * <ul>
 *   <li>Linearizable: {@code get}, {@code containsKey}, {@code put}, {@code remove},
 *   {@code putIfAbsent}, both {@code replace}s, {@code remove(key, value)}, {@code compute},
 *   {@code computeIfAbsent}, {@code computeIfPresent}, {@code merge} (each one decision under the
 *   key's leaf lock: the function runs once, under that lock, so it must be short and must not use
 *   the map), and navigation ({@code firstEntry}, {@code lastEntry}, {@code floorEntry},
 *   {@code ceilingEntry}, {@code higherEntry}, {@code lowerEntry} and their key forms).</li>
 *   <li>Weakly consistent: iterators and everything built on them ({@code size}, {@code isEmpty}
 *   of a bounded view's complement, {@code containsValue}, {@code clear}, {@code equals},
 *   {@code hashCode}, bulk operations): they never throw
 *   {@link java.util.ConcurrentModificationException}, return every entry present for their whole
 *   run, none absent for all of it, and no key twice. {@code size} of an unbounded map is the
 *   index's {@link DmIndex#approximateSize()}; of a bounded view, a count of its entries. Both
 *   take time linear in the entries.</li>
 *   <li>{@code pollFirstEntry}/{@code pollLastEntry} remove, by a conditional delete, an entry that
 *   was first (last) at the instant it was found.</li>
 * </ul>
 * Entries returned are immutable snapshots ({@code setValue} is unsupported). Null keys and values
 * raise {@link NullPointerException}; a key outside a view's range {@link IllegalArgumentException}
 * on insertion (null elsewhere); a key or value the codec cannot encode
 * {@link IllegalArgumentException}.
 */
public final class DmNavigableMap<K, V> extends AbstractMap<K, V> implements ConcurrentNavigableMap<K, V> {
    private static final int CURSOR_BATCH = 64;

    private final DmIndex index;
    private final Codec<K> keys;
    private final Codec<V> values;
    private final int keyBytes;
    private final int valueBytes;
    /** Bounds in key order (not view order): encoded, null for none. */
    private final byte[] lo;
    private final boolean loInclusive;
    private final byte[] hi;
    private final boolean hiInclusive;
    private final boolean descending;

    private DmNavigableMap(DmIndex index, Codec<K> keys, Codec<V> values, byte[] lo, boolean loInclusive, byte[] hi,
                           boolean hiInclusive, boolean descending) {
        this.index = index;
        this.keys = keys;
        this.values = values;
        this.keyBytes = index.keyBytes();
        this.valueBytes = index.valueBytes();
        this.lo = lo;
        this.loInclusive = loInclusive;
        this.hi = hi;
        this.hiInclusive = hiInclusive;
        this.descending = descending;
    }

    /** The whole index as a map of {@code K} to {@code V}. */
    public static <K, V> DmNavigableMap<K, V> of(DmIndex index, Codec<K> keys, Codec<V> values) {
        Objects.requireNonNull(index, "index");
        Objects.requireNonNull(keys, "key codec");
        Objects.requireNonNull(values, "value codec");
        return new DmNavigableMap<>(index, keys, values, null, false, null, false, false);
    }

    // ---------------------------------------------------------------- encoding and bounds

    private byte[] encodeKey(Object key) {
        Objects.requireNonNull(key, "null key");
        if (!keys.type().isInstance(key)) {
            throw new ClassCastException(key.getClass().getName() + " is not a key of this map (" + keys.type().getName() + ")");
        }
        byte[] k = keys.encode(keys.type().cast(key), keyBytes);
        if (k == null || k.length != keyBytes) {
            throw new IllegalStateException("key codec wrote " + (k == null ? "null" : k.length + " bytes") + " for a "
                    + keyBytes + "-byte key");
        }
        return k;
    }

    private byte[] encodeValue(Object value) {
        Objects.requireNonNull(value, "null value");
        if (!values.type().isInstance(value)) {
            throw new ClassCastException(value.getClass().getName() + " is not a value of this map (" + values.type().getName() + ")");
        }
        byte[] v = values.encode(values.type().cast(value), valueBytes);
        if (v == null || v.length != valueBytes) {
            throw new IllegalStateException("value codec wrote " + (v == null ? "null" : v.length + " bytes") + " for a "
                    + valueBytes + "-byte value");
        }
        return v;
    }

    private V decodeValue(byte[] v) {
        return v == null ? null : values.decode(v);
    }

    private boolean tooLow(byte[] k) {
        if (lo == null) {
            return false;
        }
        int c = Arrays.compareUnsigned(k, lo);
        return c < 0 || (c == 0 && !loInclusive);
    }

    private boolean tooHigh(byte[] k) {
        if (hi == null) {
            return false;
        }
        int c = Arrays.compareUnsigned(k, hi);
        return c > 0 || (c == 0 && !hiInclusive);
    }

    private boolean inRange(byte[] k) {
        return !tooLow(k) && !tooHigh(k);
    }

    private byte[] inRangeKey(Object key) {
        byte[] k = encodeKey(key);
        if (!inRange(k)) {
            throw new IllegalArgumentException("key out of range");
        }
        return k;
    }

    // ---------------------------------------------------------------- navigation in key order, within the bounds

    private DmIndex.Entry lowest() {
        DmIndex.Entry e = lo == null ? index.first() : loInclusive ? index.ceiling(lo) : index.higher(lo);
        return e == null || tooHigh(e.key()) ? null : e;
    }

    private DmIndex.Entry highest() {
        DmIndex.Entry e = hi == null ? index.last() : hiInclusive ? index.floor(hi) : index.lower(hi);
        return e == null || tooLow(e.key()) ? null : e;
    }

    private DmIndex.Entry ceilingIn(byte[] k, boolean inclusive) {
        if (tooLow(k)) {
            return lowest();
        }
        DmIndex.Entry e = inclusive ? index.ceiling(k) : index.higher(k);
        return e == null || tooHigh(e.key()) ? null : e;
    }

    private DmIndex.Entry floorIn(byte[] k, boolean inclusive) {
        if (tooHigh(k)) {
            return highest();
        }
        DmIndex.Entry e = inclusive ? index.floor(k) : index.lower(k);
        return e == null || tooLow(e.key()) ? null : e;
    }

    // view order: a descending view swaps up and down
    private DmIndex.Entry firstInView() {
        return descending ? highest() : lowest();
    }

    private DmIndex.Entry lastInView() {
        return descending ? lowest() : highest();
    }

    private DmIndex.Entry ceilingInView(Object key, boolean inclusive) {
        byte[] k = encodeKey(key);
        return descending ? floorIn(k, inclusive) : ceilingIn(k, inclusive);
    }

    private DmIndex.Entry floorInView(Object key, boolean inclusive) {
        byte[] k = encodeKey(key);
        return descending ? ceilingIn(k, inclusive) : floorIn(k, inclusive);
    }

    private Map.Entry<K, V> entry(DmIndex.Entry e) {
        return e == null ? null : new SimpleImmutableEntry<>(keys.decode(e.key()), values.decode(e.value()));
    }

    private K key(DmIndex.Entry e) {
        return e == null ? null : keys.decode(e.key());
    }

    private static <T> T orThrow(T t) {
        if (t == null) {
            throw new NoSuchElementException("the map is empty");
        }
        return t;
    }

    /** A cursor over this view's range in view order. */
    private Cursor cursor() {
        byte[] low = lo == null ? null : loInclusive ? lo : successor(lo);
        byte[] high = hi == null ? null : hiInclusive ? successor(hi) : hi;
        if (lo != null && low == null) {
            return index.cursor(lo, lo, descending, CURSOR_BATCH); // above the greatest key: empty
        }
        return index.cursor(low, high, descending, CURSOR_BATCH);
    }

    /** The next fixed-width key, or null after the greatest one. */
    private static byte[] successor(byte[] key) {
        byte[] k = key.clone();
        for (int i = k.length - 1; i >= 0; i--) {
            if (k[i] != (byte) 0xFF) {
                k[i]++;
                Arrays.fill(k, i + 1, k.length, (byte) 0);
                return k;
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- Map

    @Override
    public V get(Object key) {
        byte[] k = encodeKey(key);
        return inRange(k) ? decodeValue(index.get(k)) : null;
    }

    @Override
    public boolean containsKey(Object key) {
        byte[] k = encodeKey(key);
        return inRange(k) && index.get(k) != null;
    }

    @Override
    public V put(K key, V value) {
        return decodeValue(index.getAndPut(inRangeKey(key), encodeValue(value)));
    }

    @Override
    public V remove(Object key) {
        byte[] k = encodeKey(key);
        return inRange(k) ? decodeValue(index.getAndDelete(k)) : null;
    }

    @Override
    public V putIfAbsent(K key, V value) {
        return decodeValue(index.putIfAbsent(inRangeKey(key), encodeValue(value)));
    }

    @Override
    public boolean remove(Object key, Object value) {
        Objects.requireNonNull(key, "null key");
        if (value == null || !values.type().isInstance(value)) {
            return false;
        }
        byte[] k = encodeKey(key);
        return inRange(k) && index.delete(k, encodeValue(value));
    }

    @Override
    public boolean replace(K key, V oldValue, V newValue) {
        Objects.requireNonNull(oldValue, "null value");
        byte[] k = inRangeKey(key);
        return index.replace(k, encodeValue(oldValue), encodeValue(newValue));
    }

    @Override
    public V replace(K key, V value) {
        return decodeValue(index.replace(inRangeKey(key), encodeValue(value)));
    }

    @Override
    public V compute(K key, BiFunction<? super K, ? super V, ? extends V> function) {
        Objects.requireNonNull(function, "null function");
        byte[] k = encodeKey(key);
        if (!inRange(k)) {
            return outOfRange(function.apply(key, null)); // absent from this view, as the JDK's views see it
        }
        byte[] result = index.compute(k, old -> {
            V next = function.apply(key, decodeValue(old));
            return next == null ? null : encodeValue(next);
        });
        return decodeValue(result);
    }

    @Override
    public V computeIfAbsent(K key, Function<? super K, ? extends V> function) {
        Objects.requireNonNull(function, "null function");
        byte[] k = encodeKey(key);
        if (!inRange(k)) {
            return outOfRange(function.apply(key));
        }
        byte[] result = index.compute(k, old -> {
            if (old != null) {
                return old;
            }
            V next = function.apply(key);
            return next == null ? null : encodeValue(next);
        });
        return decodeValue(result);
    }

    @Override
    public V computeIfPresent(K key, BiFunction<? super K, ? super V, ? extends V> function) {
        Objects.requireNonNull(function, "null function");
        byte[] k = encodeKey(key);
        if (!inRange(k)) {
            return null;
        }
        byte[] result = index.compute(k, old -> {
            if (old == null) {
                return null;
            }
            V next = function.apply(key, decodeValue(old));
            return next == null ? null : encodeValue(next);
        });
        return decodeValue(result);
    }

    /** A key outside the view computed to {@code value}: nothing to do for null, else it cannot go in. */
    private V outOfRange(V value) {
        if (value != null) {
            throw new IllegalArgumentException("key out of range");
        }
        return null;
    }

    @Override
    public V merge(K key, V value, BiFunction<? super V, ? super V, ? extends V> function) {
        Objects.requireNonNull(function, "null function");
        byte[] given = encodeValue(value);
        byte[] k = inRangeKey(key);
        byte[] result = index.compute(k, old -> {
            if (old == null) {
                return given;
            }
            V next = function.apply(decodeValue(old), value);
            return next == null ? null : encodeValue(next);
        });
        return decodeValue(result);
    }

    @Override
    public int size() {
        long n;
        if (lo == null && hi == null) {
            n = index.approximateSize();
        } else {
            n = 0;
            for (Cursor c = cursor(); c.hasNext(); c.next()) {
                n++;
            }
        }
        return (int) Math.min(Integer.MAX_VALUE, n);
    }

    @Override
    public boolean isEmpty() {
        return lowest() == null;
    }

    @Override
    public boolean containsValue(Object value) {
        Objects.requireNonNull(value, "null value");
        if (!values.type().isInstance(value)) {
            return false;
        }
        byte[] v = encodeValue(value);
        for (Cursor c = cursor(); c.hasNext(); ) {
            if (Arrays.equals(c.next().value(), v)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void clear() {
        for (Cursor c = cursor(); c.hasNext(); ) {
            index.delete(c.next().key());
        }
    }

    // ---------------------------------------------------------------- SortedMap / NavigableMap

    @Override
    public Comparator<? super K> comparator() {
        Comparator<? super K> natural = keys.comparator();
        if (!descending) {
            return natural;
        }
        if (natural == null) {
            @SuppressWarnings("unchecked")
            Comparator<? super K> reverse = (Comparator<? super K>) Collections.reverseOrder();
            return reverse;
        }
        return Collections.reverseOrder(natural);
    }

    @Override
    public K firstKey() {
        return orThrow(key(firstInView()));
    }

    @Override
    public K lastKey() {
        return orThrow(key(lastInView()));
    }

    @Override
    public Map.Entry<K, V> firstEntry() {
        return entry(firstInView());
    }

    @Override
    public Map.Entry<K, V> lastEntry() {
        return entry(lastInView());
    }

    @Override
    public Map.Entry<K, V> ceilingEntry(K key) {
        return entry(ceilingInView(key, true));
    }

    @Override
    public K ceilingKey(K key) {
        return key(ceilingInView(key, true));
    }

    @Override
    public Map.Entry<K, V> higherEntry(K key) {
        return entry(ceilingInView(key, false));
    }

    @Override
    public K higherKey(K key) {
        return key(ceilingInView(key, false));
    }

    @Override
    public Map.Entry<K, V> floorEntry(K key) {
        return entry(floorInView(key, true));
    }

    @Override
    public K floorKey(K key) {
        return key(floorInView(key, true));
    }

    @Override
    public Map.Entry<K, V> lowerEntry(K key) {
        return entry(floorInView(key, false));
    }

    @Override
    public K lowerKey(K key) {
        return key(floorInView(key, false));
    }

    @Override
    public Map.Entry<K, V> pollFirstEntry() {
        return poll(true);
    }

    @Override
    public Map.Entry<K, V> pollLastEntry() {
        return poll(false);
    }

    private Map.Entry<K, V> poll(boolean first) {
        while (true) {
            DmIndex.Entry e = first ? firstInView() : lastInView();
            if (e == null) {
                return null;
            }
            if (index.delete(e.key(), e.value())) {
                return entry(e);
            }
            // changed or removed since it was found: look again
        }
    }

    // ---------------------------------------------------------------- views

    @Override
    public DmNavigableMap<K, V> subMap(K fromKey, boolean fromInclusive, K toKey, boolean toInclusive) {
        byte[] from = encodeKey(fromKey);
        byte[] to = encodeKey(toKey);
        // in view order from..to; in key order the other way round for a descending view
        return descending ? window(to, toInclusive, from, fromInclusive, true) : window(from, fromInclusive, to, toInclusive, true);
    }

    @Override
    public DmNavigableMap<K, V> headMap(K toKey, boolean inclusive) {
        byte[] to = encodeKey(toKey);
        return descending ? window(to, inclusive, null, false, false) : window(null, false, to, inclusive, false);
    }

    @Override
    public DmNavigableMap<K, V> tailMap(K fromKey, boolean inclusive) {
        byte[] from = encodeKey(fromKey);
        return descending ? window(null, false, from, inclusive, false) : window(from, inclusive, null, false, false);
    }

    @Override
    public DmNavigableMap<K, V> subMap(K fromKey, K toKey) {
        return subMap(fromKey, true, toKey, false);
    }

    @Override
    public DmNavigableMap<K, V> headMap(K toKey) {
        return headMap(toKey, false);
    }

    @Override
    public DmNavigableMap<K, V> tailMap(K fromKey) {
        return tailMap(fromKey, true);
    }

    /**
     * A narrower view in key order, by the JDK's rules: a new low bound must not lie below this
     * view's, a new high bound not above this view's (equal to an exclusive one only when exclusive
     * too), and the resulting low bound not above the high one.
     */
    private DmNavigableMap<K, V> window(byte[] newLo, boolean newLoInclusive, byte[] newHi, boolean newHiInclusive,
                                        boolean both) {
        if (both && Arrays.compareUnsigned(newLo, newHi) > 0) {
            throw new IllegalArgumentException("fromKey > toKey");
        }
        byte[] l = lo;
        boolean li = loInclusive;
        if (newLo != null) {
            if (lo != null) {
                int c = Arrays.compareUnsigned(newLo, lo);
                if (c < 0 || (c == 0 && !loInclusive && newLoInclusive)) {
                    throw new IllegalArgumentException("key out of range");
                }
            }
            l = newLo;
            li = newLoInclusive;
        }
        byte[] h = hi;
        boolean hiIncl = hiInclusive;
        if (newHi != null) {
            if (hi != null) {
                int c = Arrays.compareUnsigned(newHi, hi);
                if (c > 0 || (c == 0 && !hiInclusive && newHiInclusive)) {
                    throw new IllegalArgumentException("key out of range");
                }
            }
            h = newHi;
            hiIncl = newHiInclusive;
        }
        if (l != null && h != null && Arrays.compareUnsigned(l, h) > 0) {
            throw new IllegalArgumentException("inconsistent range");
        }
        return new DmNavigableMap<>(index, keys, values, l, li, h, hiIncl, descending);
    }

    @Override
    public DmNavigableMap<K, V> descendingMap() {
        return new DmNavigableMap<>(index, keys, values, lo, loInclusive, hi, hiInclusive, !descending);
    }

    @Override
    public NavigableSet<K> navigableKeySet() {
        return new KeySet();
    }

    @Override
    public NavigableSet<K> keySet() {
        return new KeySet();
    }

    @Override
    public NavigableSet<K> descendingKeySet() {
        return descendingMap().navigableKeySet();
    }

    @Override
    public Set<Map.Entry<K, V>> entrySet() {
        return new EntrySet();
    }

    @Override
    public Collection<V> values() {
        return new Values();
    }

    /** Weakly consistent iteration in view order; {@code remove} deletes the key last returned. */
    private abstract class ViewIterator<T> implements Iterator<T> {
        private final Cursor cursor = cursor();
        private byte[] lastKey;

        @Override
        public boolean hasNext() {
            return cursor.hasNext();
        }

        @Override
        public T next() {
            DmIndex.Entry e = cursor.next();
            lastKey = e.key();
            return map(e);
        }

        abstract T map(DmIndex.Entry e);

        @Override
        public void remove() {
            if (lastKey == null) {
                throw new IllegalStateException("next() was not called, or remove() was called already");
            }
            index.delete(lastKey);
            lastKey = null;
        }
    }

    private final class EntrySet extends AbstractSet<Map.Entry<K, V>> {
        @Override
        public Iterator<Map.Entry<K, V>> iterator() {
            return new ViewIterator<>() {
                @Override
                Map.Entry<K, V> map(DmIndex.Entry e) {
                    return entry(e);
                }
            };
        }

        @Override
        public boolean contains(Object o) {
            if (!(o instanceof Map.Entry<?, ?> e) || e.getKey() == null || !keys.type().isInstance(e.getKey())) {
                return false;
            }
            V v = get(e.getKey());
            return v != null && v.equals(e.getValue());
        }

        @Override
        public boolean remove(Object o) {
            if (!(o instanceof Map.Entry<?, ?> e) || e.getKey() == null || !keys.type().isInstance(e.getKey())) {
                return false;
            }
            return DmNavigableMap.this.remove(e.getKey(), e.getValue());
        }

        @Override
        public int size() {
            return DmNavigableMap.this.size();
        }

        @Override
        public boolean isEmpty() {
            return DmNavigableMap.this.isEmpty();
        }

        @Override
        public void clear() {
            DmNavigableMap.this.clear();
        }
    }

    private final class Values extends AbstractCollection<V> {
        @Override
        public Iterator<V> iterator() {
            return new ViewIterator<>() {
                @Override
                V map(DmIndex.Entry e) {
                    return values.decode(e.value());
                }
            };
        }

        @Override
        public int size() {
            return DmNavigableMap.this.size();
        }

        @Override
        public boolean isEmpty() {
            return DmNavigableMap.this.isEmpty();
        }

        @Override
        public boolean contains(Object o) {
            return o != null && containsValue(o);
        }

        @Override
        public void clear() {
            DmNavigableMap.this.clear();
        }
    }

    /** The keys of this view, in its order; removal removes from the map, insertion is unsupported (as in the JDK). */
    private final class KeySet extends AbstractSet<K> implements NavigableSet<K> {
        @Override
        public Iterator<K> iterator() {
            return new ViewIterator<>() {
                @Override
                K map(DmIndex.Entry e) {
                    return keys.decode(e.key());
                }
            };
        }

        @Override
        public Iterator<K> descendingIterator() {
            return descendingSet().iterator();
        }

        @Override
        public int size() {
            return DmNavigableMap.this.size();
        }

        @Override
        public boolean isEmpty() {
            return DmNavigableMap.this.isEmpty();
        }

        @Override
        public boolean contains(Object o) {
            return o != null && keys.type().isInstance(o) && containsKey(o);
        }

        @Override
        public boolean remove(Object o) {
            return o != null && keys.type().isInstance(o) && DmNavigableMap.this.remove(o) != null;
        }

        @Override
        public void clear() {
            DmNavigableMap.this.clear();
        }

        @Override
        public Comparator<? super K> comparator() {
            return DmNavigableMap.this.comparator();
        }

        @Override
        public K first() {
            return firstKey();
        }

        @Override
        public K last() {
            return lastKey();
        }

        @Override
        public K lower(K k) {
            return lowerKey(k);
        }

        @Override
        public K floor(K k) {
            return floorKey(k);
        }

        @Override
        public K ceiling(K k) {
            return ceilingKey(k);
        }

        @Override
        public K higher(K k) {
            return higherKey(k);
        }

        @Override
        public K pollFirst() {
            Map.Entry<K, V> e = pollFirstEntry();
            return e == null ? null : e.getKey();
        }

        @Override
        public K pollLast() {
            Map.Entry<K, V> e = pollLastEntry();
            return e == null ? null : e.getKey();
        }

        @Override
        public NavigableSet<K> descendingSet() {
            return descendingMap().navigableKeySet();
        }

        @Override
        public NavigableSet<K> subSet(K from, boolean fromInclusive, K to, boolean toInclusive) {
            return subMap(from, fromInclusive, to, toInclusive).navigableKeySet();
        }

        @Override
        public NavigableSet<K> headSet(K to, boolean inclusive) {
            return headMap(to, inclusive).navigableKeySet();
        }

        @Override
        public NavigableSet<K> tailSet(K from, boolean inclusive) {
            return tailMap(from, inclusive).navigableKeySet();
        }

        @Override
        public SortedSet<K> subSet(K from, K to) {
            return subSet(from, true, to, false);
        }

        @Override
        public SortedSet<K> headSet(K to) {
            return headSet(to, false);
        }

        @Override
        public SortedSet<K> tailSet(K from) {
            return tailSet(from, true);
        }
    }
}
