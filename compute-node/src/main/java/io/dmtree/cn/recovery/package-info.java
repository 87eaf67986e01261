/**
 * The compute-node side of failure handling in a cluster with membership: this node's own fence
 * ({@link io.dmtree.cn.recovery.MemberFence}, {@link io.dmtree.cn.recovery.FencedVerbs},
 * {@link io.dmtree.cn.recovery.FencedMessaging}), what its lock client is told about the others
 * ({@link io.dmtree.cn.recovery.ClusterLiveness}), the recovery of lapsed compute nodes it takes
 * part in ({@link io.dmtree.cn.recovery.RecoveryCoordinator}), and the hand-over of a slot to a
 * new incarnation ({@link io.dmtree.cn.recovery.SlotHandover}).
 */
package io.dmtree.cn.recovery;
