package io.switchboard.bench;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * The pub/sub peer a Java user might pick instead: open-source Chronicle Queue, a memory-mapped queue in
 * {@code /dev/shm} (tmpfs, like Aeron's logs), one appender written by the benchmark thread and N tailers, each reading
 * every 32-byte excerpt, read by {@link SubscriberPollers}. Tailers start at the queue's beginning, so none misses a
 * message; each is created on the thread that reads it, as Chronicle requires.
 */
final class ChronicleQueuePubSubRig implements PubSubRig
{
    static
    {
        System.setProperty("chronicle.analytics.disable", "true"); // no usage reporting from a benchmark
    }

    private final File directory;
    private final ChronicleQueue queue;
    private final ExcerptAppender appender;
    private final Bytes<?> message = Bytes.allocateElasticDirect(Payload.LENGTH);
    private final DeliveryCounter[] counters;
    private final SubscriberPollers pollers;

    ChronicleQueuePubSubRig(final int subscriberCount)
    {
        try
        {
            final Path shm = Path.of("/dev/shm");
            directory = (Files.isDirectory(shm) ? Files.createTempDirectory(shm, "sb-bench-chronicle-") :
                Files.createTempDirectory("sb-bench-chronicle-")).toFile();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        queue = SingleChronicleQueueBuilder.binary(directory).build();
        appender = queue.createAppender();
        for (int i = 0; i < Payload.LENGTH; i++)
        {
            message.writeByte((byte)i);
        }

        counters = new DeliveryCounter[subscriberCount];
        final IntSupplier[] polls = new IntSupplier[subscriberCount];
        for (int i = 0; i < subscriberCount; i++)
        {
            final DeliveryCounter counter = new DeliveryCounter();
            counters[i] = counter;
            polls[i] = new TailerPoll(queue, counter);
        }
        pollers = new SubscriberPollers("chronicle-tailer", polls);

        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        publish();
        while (DeliveryCounter.min(counters) == 0)
        {
            Thread.yield();
            Rigs.checkDeadline(deadlineNs, "every Chronicle tailer to read a first message");
        }
    }

    /** {@inheritDoc} */
    public void publish()
    {
        appender.writeBytes(message);
    }

    /** {@inheritDoc} */
    public long minDelivered()
    {
        return DeliveryCounter.min(counters);
    }

    /** {@inheritDoc} */
    public void idle()
    {
        // nothing to drive: the appender has no conductor
    }

    /** {@inheritDoc} */
    public void close()
    {
        CloseHelper.closeAll(pollers, appender, queue);
        message.releaseLast();
        IoUtil.delete(directory, true);
    }

    /** One tailer, made on its reader's thread at the first poll; reads up to 16 excerpts a poll. */
    private static final class TailerPoll implements IntSupplier
    {
        private final ChronicleQueue queue;
        private final DeliveryCounter counter;
        private ExcerptTailer tailer;

        TailerPoll(final ChronicleQueue queue, final DeliveryCounter counter)
        {
            this.queue = queue;
            this.counter = counter;
        }

        public int getAsInt()
        {
            if (null == tailer)
            {
                tailer = queue.createTailer();
            }
            int read = 0;
            while (read < 16)
            {
                try (DocumentContext dc = tailer.readingDocument())
                {
                    if (!dc.isPresent())
                    {
                        break;
                    }
                    if (dc.wire().bytes().readLong() == Long.MIN_VALUE)
                    {
                        throw new IllegalStateException("unexpected excerpt");
                    }
                }
                counter.increment();
                read++;
            }
            return read;
        }
    }
}
