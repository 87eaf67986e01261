package io.dmtree.cn.recovery;

import io.dmtree.core.messaging.CnMessaging;
import io.dmtree.core.messaging.MessageHandler;
import org.agrona.DirectBuffer;

/**
 * CN-to-CN messaging of a compute node that stops sending once its {@link MemberFence} is up: a
 * fenced node's grants and lock messages would act on locks whose recovery others run, so
 * {@link #send} throws {@link io.dmtree.core.memory.FencedException} (checked first, one volatile
 * read). Messages to it are still delivered; its threads learn of the fence at their next verb.
 */
public final class FencedMessaging implements CnMessaging {
    private final CnMessaging inner;
    private final MemberFence fence;

    public FencedMessaging(CnMessaging inner, MemberFence fence) {
        this.inner = inner;
        this.fence = fence;
    }

    @Override
    public int self() {
        return inner.self();
    }

    @Override
    public void send(int toCn, DirectBuffer message, int offset, int length) {
        fence.check();
        try {
            inner.send(toCn, message, offset, length);
        } catch (RuntimeException e) {
            throw fence.translate(e);
        }
    }

    @Override
    public void onMessage(MessageHandler handler) {
        inner.onMessage(handler);
    }

    @Override
    public long messagesSent() {
        return inner.messagesSent();
    }

    @Override
    public void close() {
        inner.close();
    }
}
