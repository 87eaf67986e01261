package io.dmtree.core.wire;

/**
 * Bodies of control-plane frames (service {@code control}), after the 16-byte
 * {@link io.dmtree.core.wire.FrameHeader}. A reply has the request's type with the reply bit set and
 * the request's correlation id, or is an error frame. Strings are a u16 byte count and UTF-8
 * bytes; every length is checked against the frame and the limits below before use.
 *
 * <pre>
 * JOIN              request: | cn id wanted:16 (0xFFFF = any) | 0:16 | process id:u32 (0 = not told) |
 *                            [ | epoch:64 | ]  (the incarnation's membership epoch; absent = 0, none)
 *                   reply  : | cn id:16 | memory node id:16 | 0:32 |
 *                   (an id held by an older incarnation, smaller nonzero epoch, passes to a newer one:
 *                    membership gave it the slot, so the older one's lease ended)
 *                   (memory node 0 assigns compute-node ids; others take the id the compute node
 *                    got from memory node 0. The process id is the compute node's on its host:
 *                    an shm memory node fences a compute node by stopping that process)
 * LEAVE             request: empty                 reply: empty
 * DESCRIBE          request: empty                 reply: a {@link RegionDescription}:
 *                   | mn id:16 | 0:16 | 0:32 | transport name:str |
 *                   | region bytes:64 | chunk bytes:64 | lock table offset:64 | lock table bytes:64 |
 *                   | chunk area offset:64 | shm path:str | host:str | port:16 | segments:16 |
 *                   segments x | region offset:64 | address:64 | length:64 | rkey:32 | 0:32 |
 *                   | coordination:str |  (the cluster's coordination service, empty for none)
 * ALLOCATE_CHUNK    request: empty                 reply: | global address of a zeroed chunk:64 |
 * ROOT_HOME         request: empty                 reply: | global address of the root pointer:64 |
 * REGISTER_ENDPOINT request: | endpoint:str |      reply: empty   (memory node 0, after JOIN)
 * LOOKUP_ENDPOINT   request: | cn id:16 | 0:16 | wait millis:32 |
 *                   reply  : | found:8 | endpoint:str |  (waits up to wait millis for it to appear)
 * BARRIER           request: | name:str | parties:16 | timeout millis:32 | payload bytes:32 | payload |
 *                            | members:16 | members x cn id:16 |
 *                   reply  : | arrivals:16 | arrivals x ( cn id:16 | payload bytes:32 | payload ) |
 *                            | departed:16 | departed x cn id:16 |
 *                   (memory node 0, after JOIN. With 0 members a counting barrier: released when
 *                    `parties` compute nodes arrived. With members (as many as parties, the caller
 *                    among them): released when every member arrived or left the cluster; departed
 *                    lists the members that left without arriving. Each reply lists every
 *                    arrival's payload in compute-node order.)
 * WATCH             request: empty; no reply until the memory node stops (then an error
 *                   SHUTTING_DOWN), or the connection closes: a compute node's liveness signal.
 * </pre>
 */
public final class ControlFrame {
    public static final int ANY_COMPUTE_NODE = 0xFFFF;
    public static final int MAX_COMPUTE_NODES = 4096;
    public static final int MAX_ENDPOINT_BYTES = 512;
    public static final int MAX_BARRIER_NAME_BYTES = 64;
    public static final int MAX_BARRIER_PAYLOAD_BYTES = 1 << 20;
    public static final int MAX_WAIT_MILLIS = 10 * 60 * 1000;

    private ControlFrame() {
    }
}
