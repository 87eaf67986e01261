/**
 * Membership on ZooKeeper through Curator ({@link io.dmtree.mn.membership.ZooKeeperMembership}), the
 * ZooKeeper servers a cluster can run ({@link io.dmtree.mn.membership.EmbeddedZooKeeper} inside a
 * memory node, {@link io.dmtree.mn.membership.EnsembleServer} and
 * {@link io.dmtree.mn.membership.ZooKeeperEnsemble} as processes), and the lease-traffic
 * benchmark.
 *
 * <p>How a process takes part: it opens one {@link io.dmtree.core.membership.Membership} (this
 * package's for a multi-process cluster, {@link io.dmtree.core.membership.InProcessMembership} for
 * the embedded one), joins once as its kind ({@code join(COMPUTE_NODE, ANY_ID, endpoint, ...)} for a
 * compute node, {@code join(MEMORY_NODE, id, address, ...)} for a memory node), keeps the {@link
 * io.dmtree.core.membership.Lease} for its life and stops (or rejoins) when the lease ends; memory
 * nodes {@link io.dmtree.core.membership.Membership#watch watch} to learn whom to fence; everyone
 * reads the cluster configuration and meets at barriers through the same object.
 */
package io.dmtree.mn.membership;
