package io.dmtree.cn.carrier.tcp;

/**
 * Options of the tcp carrier's client side.
 *
 * @param connectionsPerNode connections to each memory node; a thread always uses the same one
 * @param maxOutstanding     most request frames in flight per connection (pipelining depth); more
 *                           wait to be admitted as replies come back
 * @param maxFrameBytes      the largest frame this side sends or accepts
 * @param timeoutMillis      a verb that gets no reply in this time fails the connection
 * @param spins              busy-wait rounds ({@link Thread#onSpinWait()}) a waiting caller spends
 *                           before it parks; 0 parks at once
 */
public record TcpVerbsConfig(int connectionsPerNode, int maxOutstanding, int maxFrameBytes, int timeoutMillis, int spins) {
    public static final int DEFAULT_MAX_FRAME_BYTES = 16 << 20;
    public static final int DEFAULT_SPINS = 20;
    public static final int MAX_SPINS = 1_000_000;

    public TcpVerbsConfig {
        if (connectionsPerNode < 1 || connectionsPerNode > 64) {
            throw new IllegalArgumentException("connections per memory node must be in [1, 64]: " + connectionsPerNode);
        }
        if (maxOutstanding < 1 || maxOutstanding > 65536) {
            throw new IllegalArgumentException("outstanding requests per connection must be in [1, 65536]: " + maxOutstanding);
        }
        if (maxFrameBytes < 4096) {
            throw new IllegalArgumentException("frame limit must be at least 4096 bytes: " + maxFrameBytes);
        }
        if (timeoutMillis < 1) {
            throw new IllegalArgumentException("verb timeout must be positive: " + timeoutMillis);
        }
        if (spins < 0 || spins > MAX_SPINS) {
            throw new IllegalArgumentException("spins before parking must be in [0, " + MAX_SPINS + "]: " + spins);
        }
    }

    public static TcpVerbsConfig defaults() {
        return new TcpVerbsConfig(1, 256, DEFAULT_MAX_FRAME_BYTES, 30_000, DEFAULT_SPINS);
    }

    public TcpVerbsConfig withTimeoutMillis(int ms) {
        return new TcpVerbsConfig(connectionsPerNode, maxOutstanding, maxFrameBytes, ms, spins);
    }

    public TcpVerbsConfig withConnectionsPerNode(int n) {
        return new TcpVerbsConfig(n, maxOutstanding, maxFrameBytes, timeoutMillis, spins);
    }

    public TcpVerbsConfig withMaxOutstanding(int n) {
        return new TcpVerbsConfig(connectionsPerNode, n, maxFrameBytes, timeoutMillis, spins);
    }

    public TcpVerbsConfig withSpins(int n) {
        return new TcpVerbsConfig(connectionsPerNode, maxOutstanding, maxFrameBytes, timeoutMillis, n);
    }
}
