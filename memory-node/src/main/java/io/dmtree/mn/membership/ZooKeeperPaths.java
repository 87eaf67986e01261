package io.dmtree.mn.membership;

import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberId;
import io.dmtree.core.membership.MemberKind;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Where membership lives in ZooKeeper, under one root ({@code /dmtree} by default, so clusters can
 * share an ensemble under different roots):
 *
 * <pre>
 * ROOT/epoch                          persistent; its data version is the last epoch handed out
 * ROOT/config                         persistent; data: the configuration document, data version = its version
 * ROOT/ids/cn/3                       ephemeral, member's session: compute node 3 is taken; data: epoch (u64)
 * ROOT/leases/cn-3@42@tcp%3A10.0.0.2%3A7400
 *                                     ephemeral, member's session: the incarnation itself; the name carries
 *                                     kind, id, epoch and endpoint, so a watcher needs no read to learn them
 * ROOT/barriers/run%2Fstart           persistent; its data version is the number of the open round
 * ROOT/barriers/run%2Fstart/r5        persistent; data: the parties of round 5
 * ROOT/barriers/run%2Fstart/r5/cn-3@42@...   ephemeral, arriver's session: an arrival; data: its payload
 * ROOT/barriers/run%2Fstart/release-5 persistent; data: the release of round 5
 * ROOT/fences/cn-3@42                 persistent: the fence of compute node 3, epoch 42, was requested;
 *                                     data: its endpoint (UTF-8)
 * ROOT/fences/cn-3@42/mn-0            persistent: memory node 0 fenced it
 * ROOT/fences/cn-3@42/claim           ephemeral, the claimer's lease session: who recovers it;
 *                                     data: the claimer's incarnation name
 * ROOT/fences/cn-3@42/recovered       persistent: nothing it held is left
 * </pre>
 *
 * Names are percent-encoded: every byte of the UTF-8 form outside {@code [A-Za-z0-9_-]} becomes
 * {@code %XX}, so a name never holds {@code /}, {@code @} or {@code .}, and decodes back exactly.
 */
public final class ZooKeeperPaths {
    private final String root;

    public ZooKeeperPaths(String root) {
        if (root == null || !root.startsWith("/") || root.endsWith("/") || root.contains("//")) {
            throw new IllegalArgumentException("ZooKeeper root '" + root + "' must look like /dmtree or /clusters/a");
        }
        this.root = root;
    }

    public String root() {
        return root;
    }

    public String epoch() {
        return root + "/epoch";
    }

    public String config() {
        return root + "/config";
    }

    public String ids(MemberKind kind) {
        return root + "/ids/" + kind.tag();
    }

    public String id(MemberId id) {
        return ids(id.kind()) + "/" + id.id();
    }

    public String leases() {
        return root + "/leases";
    }

    public String lease(Member m) {
        return leases() + "/" + incarnationName(m);
    }

    public String barriers() {
        return root + "/barriers";
    }

    public String barrier(String name) {
        return barriers() + "/" + encode(name);
    }

    public String round(String name, long round) {
        return barrier(name) + "/r" + round;
    }

    public String arrival(String name, long round, Member m) {
        return round(name, round) + "/" + incarnationName(m);
    }

    public String release(String name, long round) {
        return barrier(name) + "/release-" + round;
    }

    public String fences() {
        return root + "/fences";
    }

    /** The fence record of incarnation {@code m} ({@code cn-3@42}). */
    public String fence(Member m) {
        return fences() + "/" + fenceName(m);
    }

    /** Memory node {@code memoryNode}'s acknowledgement of the fence of {@code m}. */
    public String fenceAck(Member m, int memoryNode) {
        return fence(m) + "/" + FENCE_ACK_PREFIX + memoryNode;
    }

    public String fenceClaim(Member m) {
        return fence(m) + "/" + FENCE_CLAIM;
    }

    public String fenceRecovered(Member m) {
        return fence(m) + "/" + FENCE_RECOVERED;
    }

    /** Child names under a fence record. */
    public static final String FENCE_ACK_PREFIX = "mn-";
    public static final String FENCE_CLAIM = "claim";
    public static final String FENCE_RECOVERED = "recovered";

    /** {@code cn-3@42}: the name of an incarnation's fence record (no endpoint: that is the record's data). */
    public static String fenceName(Member m) {
        return m.kind().tag() + "-" + m.id().id() + "@" + m.epoch();
    }

    /** The incarnation of fence record {@code name} with {@code endpoint}, or null if {@code name} is not one. */
    public static Member parseFenceName(String name, String endpoint) {
        int dash = name.indexOf('-');
        int at = name.indexOf('@');
        if (dash <= 0 || at < dash || name.indexOf('@', at + 1) >= 0) {
            return null;
        }
        try {
            MemberKind kind = MemberKind.ofTag(name.substring(0, dash));
            int id = Integer.parseInt(name.substring(dash + 1, at));
            long epoch = Long.parseLong(name.substring(at + 1));
            return new Member(new MemberId(kind, id), epoch, endpoint);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** {@code cn-3@42@<endpoint>}: the name of an incarnation's lease and arrival nodes. */
    public static String incarnationName(Member m) {
        return m.kind().tag() + "-" + m.id().id() + "@" + m.epoch() + "@" + encode(m.endpoint());
    }

    /** The incarnation named {@code name}, or null if {@code name} is not one. */
    public static Member parseIncarnation(String name) {
        int dash = name.indexOf('-');
        int at = name.indexOf('@');
        int at2 = at < 0 ? -1 : name.indexOf('@', at + 1);
        if (dash <= 0 || at < dash || at2 < 0) {
            return null;
        }
        try {
            MemberKind kind = MemberKind.ofTag(name.substring(0, dash));
            int id = Integer.parseInt(name.substring(dash + 1, at));
            long epoch = Long.parseLong(name.substring(at + 1, at2));
            return new Member(new MemberId(kind, id), epoch, decode(name.substring(at2 + 1)));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public static String encode(String s) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
        return out.toString();
    }

    public static String decode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new IllegalArgumentException("truncated escape in '" + s + "'");
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("bad escape in '" + s + "'");
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
