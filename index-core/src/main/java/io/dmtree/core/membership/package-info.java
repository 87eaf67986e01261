/**
 * The membership SPI: {@link io.dmtree.core.membership.Membership} (members in id slots with epochs,
 * leases, watchers, the versioned cluster configuration, run barriers; its class comment states
 * what is atomic and what a watcher may miss), the shared pieces every implementation uses ({@link
 * io.dmtree.core.membership.MemberTracker}, {@link io.dmtree.core.membership.LeaseStatus}), and the
 * in-process implementation for the embedded cluster. The ZooKeeper implementation lives in
 * memory-node, {@code io.dmtree.mn.membership}.
 */
package io.dmtree.core.membership;
