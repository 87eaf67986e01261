package io.dmtree.mn.carrier.tcp;

import io.dmtree.mn.carrier.CarrierServer;
import io.dmtree.mn.carrier.OffHeapServedRegion;
import io.dmtree.mn.carrier.ServeContext;
import io.dmtree.mn.carrier.ServedRegion;

import java.util.List;

/**
 * The server half of the {@code tcp} carrier: the region is off-heap memory, and the memory node's
 * front door offers the verbs service ({@link VerbService}) beside the control plane, so the
 * data path shares the control address. A fence is the verb service's ({@link VerbService}: the
 * epoch of every verb frame is checked), and so are the members' rights on the region
 * ({@value #RIGHTS}, on by default) with the chunk table's per-owner rules ({@value #CHUNK_OWNERS},
 * on by default with rights, in force on a memory node with membership).
 */
public final class TcpCarrierServer implements CarrierServer {
    public static final String NAME = "tcp";
    /** {@code on} (default): every verb is checked against its sender's rights ({@link io.dmtree.mn.carrier.MemberRights}); {@code off}: bounds only. */
    public static final String RIGHTS = "tcp.rights";

    /**
     * {@code on} (default, with rights on): WRITE, CAS and FAA on the chunk table also keep the
     * per-owner rules ({@link io.dmtree.mn.carrier.ChunkTableRights}); {@code off}: range rights only.
     */
    public static final String CHUNK_OWNERS = "tcp.chunk-owners";

    static boolean rights(ServeContext context) {
        return onOff(context, RIGHTS, "on");
    }

    /**
     * Whether the per-owner rules are in force: asked for (or by default with rights) and the memory
     * node takes part in a membership; without one it learns no fence, so it could not tell a
     * reclaimer's legal CAS on a lapsed member's words from a theft, and the table keeps the range
     * rights only.
     */
    static boolean chunkOwners(ServeContext context) {
        boolean rights = rights(context);
        boolean owners = onOff(context, CHUNK_OWNERS, rights ? "on" : "off");
        if (owners && !rights) {
            throw new IllegalArgumentException(CHUNK_OWNERS + "=on needs " + RIGHTS + "=on");
        }
        return owners && context.withMembership();
    }

    private static boolean onOff(ServeContext context, String key, String otherwise) {
        String v = context.options().get(key, otherwise).trim();
        return switch (v) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException(key + " is on or off, not '" + v + "'");
        };
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ServedRegion open(ServeContext context) throws java.io.IOException {
        VerbService[] verbs = new VerbService[1];
        return new OffHeapServedRegion(io.dmtree.mn.carrier.RegionBacking.open(context), region -> {
            verbs[0] = new VerbService(region, context.maxFrameBytes(), context.memoryNode(), rights(context),
                    chunkOwners(context));
            return List.of(verbs[0]);
        }, (cn, epochUpTo) -> verbs[0].fence(cn, epochUpTo));
    }
}
