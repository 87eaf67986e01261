package io.dmtree.mn.membership;

import io.dmtree.core.membership.BarrierParties;
import io.dmtree.core.membership.BarrierRelease;
import io.dmtree.core.membership.ClusterConfiguration;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberId;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.MembershipException;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The byte layouts of the records membership keeps in ZooKeeper node data (see {@link
 * ZooKeeperPaths} for which node holds which). Integers are big-endian; strings are UTF-8 after
 * their length.
 *
 * <pre>
 * id node:         | epoch u64 |
 *
 * member:          | kind u8 (0 cn, 1 mn) | id u32 | epoch u64 | endpoint length u16 | endpoint |
 *
 * configuration:   | entries u32 | entries x ( key length u16 | key | value length u32 | value ) |
 *                  (the version is the node's data version, not stored)
 *
 * parties:         | 1 u8 | kind u8 | count u32 |                     BarrierParties.Count
 *                  | 2 u8 | members u32 | members x member |          BarrierParties.Members
 *
 * release:         | round u64 | arrivals u32 | arrivals x ( member | payload length u32 | payload ) |
 *                  | lapsed u32 | lapsed x member |
 * </pre>
 *
 * A record that does not parse (written by something else) raises {@link MembershipException}
 * naming it.
 */
public final class ZooKeeperRecords {
    private static final byte COUNT = 1;
    private static final byte MEMBERS = 2;

    private ZooKeeperRecords() {
    }

    public static byte[] epoch(long epoch) {
        return ByteBuffer.allocate(Long.BYTES).putLong(epoch).array();
    }

    public static long epoch(byte[] data) {
        return read("id node", data, b -> b.getLong());
    }

    public static byte[] configuration(SortedMap<String, String> entries) {
        int size = Integer.BYTES;
        for (var e : entries.entrySet()) {
            size += Short.BYTES + utf8(e.getKey()).length + Integer.BYTES + utf8(e.getValue()).length;
        }
        ByteBuffer b = ByteBuffer.allocate(size).putInt(entries.size());
        for (var e : entries.entrySet()) {
            byte[] k = utf8(e.getKey());
            byte[] v = utf8(e.getValue());
            b.putShort((short) k.length).put(k).putInt(v.length).put(v);
        }
        return b.array();
    }

    public static ClusterConfiguration configuration(int version, byte[] data) {
        if (data == null || data.length == 0) {
            return new ClusterConfiguration(version, new TreeMap<>());
        }
        SortedMap<String, String> entries = read("configuration", data, b -> {
            int n = b.getInt();
            SortedMap<String, String> m = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                String k = string(b, Short.toUnsignedInt(b.getShort()));
                String v = string(b, b.getInt());
                m.put(k, v);
            }
            return m;
        });
        return new ClusterConfiguration(version, entries);
    }

    public static byte[] parties(BarrierParties parties) {
        if (parties instanceof BarrierParties.Count c) {
            return ByteBuffer.allocate(1 + 1 + Integer.BYTES).put(COUNT).put((byte) c.kind().ordinal()).putInt(c.count())
                    .array();
        }
        SortedSet<Member> ms = ((BarrierParties.Members) parties).members();
        int size = 1 + Integer.BYTES;
        for (Member m : ms) {
            size += memberBytes(m);
        }
        ByteBuffer b = ByteBuffer.allocate(size).put(MEMBERS).putInt(ms.size());
        for (Member m : ms) {
            putMember(b, m);
        }
        return b.array();
    }

    public static BarrierParties parties(byte[] data) {
        return read("barrier parties", data, b -> {
            byte type = b.get();
            if (type == COUNT) {
                return new BarrierParties.Count(kind(b.get()), b.getInt());
            }
            if (type != MEMBERS) {
                throw new IllegalArgumentException("parties type " + type);
            }
            int n = b.getInt();
            SortedSet<Member> ms = new TreeSet<>();
            for (int i = 0; i < n; i++) {
                ms.add(getMember(b));
            }
            return new BarrierParties.Members(ms);
        });
    }

    public static byte[] release(BarrierRelease r) {
        int size = Long.BYTES + Integer.BYTES + Integer.BYTES;
        for (var e : r.arrivals().entrySet()) {
            size += memberBytes(e.getKey()) + Integer.BYTES + e.getValue().length;
        }
        for (Member m : r.lapsed()) {
            size += memberBytes(m);
        }
        ByteBuffer b = ByteBuffer.allocate(size).putLong(r.round()).putInt(r.arrivals().size());
        for (var e : r.arrivals().entrySet()) {
            putMember(b, e.getKey());
            b.putInt(e.getValue().length).put(e.getValue());
        }
        b.putInt(r.lapsed().size());
        for (Member m : r.lapsed()) {
            putMember(b, m);
        }
        return b.array();
    }

    public static BarrierRelease release(String name, byte[] data) {
        return read("barrier release", data, b -> {
            long round = b.getLong();
            int n = b.getInt();
            SortedMap<Member, byte[]> arrivals = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                Member m = getMember(b);
                byte[] p = new byte[b.getInt()];
                b.get(p);
                arrivals.put(m, p);
            }
            int l = b.getInt();
            SortedSet<Member> lapsed = new TreeSet<>();
            for (int i = 0; i < l; i++) {
                lapsed.add(getMember(b));
            }
            return new BarrierRelease(name, round, arrivals, lapsed);
        });
    }

    private static int memberBytes(Member m) {
        return 1 + Integer.BYTES + Long.BYTES + Short.BYTES + utf8(m.endpoint()).length;
    }

    private static void putMember(ByteBuffer b, Member m) {
        byte[] e = utf8(m.endpoint());
        b.put((byte) m.kind().ordinal()).putInt(m.id().id()).putLong(m.epoch()).putShort((short) e.length).put(e);
    }

    private static Member getMember(ByteBuffer b) {
        MemberKind kind = kind(b.get());
        int id = b.getInt();
        long epoch = b.getLong();
        return new Member(new MemberId(kind, id), epoch, string(b, Short.toUnsignedInt(b.getShort())));
    }

    private static MemberKind kind(byte k) {
        if (k < 0 || k >= MemberKind.values().length) {
            throw new IllegalArgumentException("member kind " + k);
        }
        return MemberKind.values()[k];
    }

    private static String string(ByteBuffer b, int length) {
        if (length < 0 || length > b.remaining()) {
            throw new IllegalArgumentException("string of " + length + " bytes with " + b.remaining() + " left");
        }
        byte[] s = new byte[length];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private interface Reader<T> {
        T read(ByteBuffer b);
    }

    private static <T> T read(String what, byte[] data, Reader<T> reader) {
        if (data == null) {
            throw new MembershipException("missing " + what + " record");
        }
        ByteBuffer b = ByteBuffer.wrap(data);
        try {
            T t = reader.read(b);
            if (b.hasRemaining()) {
                throw new IllegalArgumentException(b.remaining() + " bytes past the end");
            }
            return t;
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new MembershipException("corrupt " + what + " record of " + data.length + " bytes: " + e.getMessage(), e);
        }
    }
}
