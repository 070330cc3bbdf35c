package io.switchboard.examples;

import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.examples.codec.*;
import io.switchboard.transport.ServiceDefinition;
import io.switchboard.transport.ServiceRequest;
import io.switchboard.transport.StreamSession;
import io.switchboard.transport.Switchboard;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.file.Paths;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The demo services: {@code calculator} (request-response), {@code countdown} (request-stream), {@code kv_store}
 * (state across calls) and {@code price_feed} (publishes {@code prices.<SYMBOL>} every second), all served by one
 * Java peer.
 * <p>
 * Handlers run on the peer's duty-cycle thread and encode replies straight into reused buffers; the countdown and
 * the price feed send from a timer thread, which the thread-safe {@link StreamSession} and
 * {@link Switchboard#publish} allow.
 */
public final class DemoServices implements AutoCloseable
{
    /** The countdown service logs under its own name. */
    private static final System.Logger COUNTDOWN_LOG = io.switchboard.transport.Logging.logger("countdown");

    /** The demo schema's IR, generated at build time. */
    public static final String SCHEMA_RESOURCE = "/examples.sbeir";

    /** Symbols the price feed publishes. */
    public static final List<String> SYMBOLS = List.of("ACME", "GLOBEX", "INITECH");

    private final Switchboard client;
    private final ScheduledExecutorService timer;
    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final AddDecoder addDecoder = new AddDecoder();
    private final MultiplyDecoder multiplyDecoder = new MultiplyDecoder();
    private final ResultEncoder resultEncoder = new ResultEncoder();
    private final SetDecoder setDecoder = new SetDecoder();
    private final GetDecoder getDecoder = new GetDecoder();
    private final StoredEncoder storedEncoder = new StoredEncoder();
    private final ValueEncoder valueEncoder = new ValueEncoder();
    private final CountdownDecoder countdownDecoder = new CountdownDecoder();
    /** Grows to the largest reply: a Get answers a value as long as the schema allows (1 MiB), with its envelope. */
    private final ExpandableArrayBuffer replyBuffer = new ExpandableArrayBuffer(64 * 1024);
    private final Map<String, String> store = new HashMap<>();

    /**
     * Serve the demo services as one peer of the broker the client is connected to.
     *
     * @param client connected to the broker; closed with this.
     * @param withPriceFeed whether to start the price feed.
     */
    public DemoServices(final Switchboard client, final boolean withPriceFeed)
    {
        this(client, withPriceFeed, "");
    }

    /**
     * Serve the demo services under prefixed names (e.g. {@code test_calculator}), so that a second set can run
     * beside the first.
     *
     * @param client connected to the broker; closed with this.
     * @param withPriceFeed whether to start the price feed.
     * @param prefix put before every service name, may be empty.
     */
    public DemoServices(final Switchboard client, final boolean withPriceFeed, final String prefix)
    {
        this.client = client;
        this.timer = Executors.newSingleThreadScheduledExecutor((r) ->
        {
            final Thread t = new Thread(r, "demo-timer");
            t.setDaemon(true);
            return t;
        });
        final MessageSchema schema = MessageSchema.fromIrResource(SCHEMA_RESOURCE);

        client.serve(ServiceDefinition.named(prefix + "calculator").shared().schema(schema)
            .onRequest("Add", this::onAdd)
            .onRequest("Multiply", this::onMultiply));
        client.serve(ServiceDefinition.named(prefix + "countdown").schema(schema)
            .onStream("Countdown", this::onCountdown));
        client.serve(ServiceDefinition.named(prefix + "kv_store").schema(schema)
            .onRequest("Set", this::onSet)
            .onRequest("Get", this::onGet));

        if (withPriceFeed)
        {
            final PriceFeed feed = new PriceFeed();
            timer.scheduleAtFixedRate(feed, 0, 1, TimeUnit.SECONDS);
        }
    }

    private void onAdd(final ServiceRequest request, final DirectBuffer buffer, final int offset, final int length)
    {
        addDecoder.wrapAndApplyHeader(buffer, offset, headerDecoder);
        replyResult(request, addDecoder.a() + addDecoder.b());
    }

    private void onMultiply(final ServiceRequest request, final DirectBuffer buffer, final int offset, final int length)
    {
        multiplyDecoder.wrapAndApplyHeader(buffer, offset, headerDecoder);
        replyResult(request, multiplyDecoder.a() * multiplyDecoder.b());
    }

    private void replyResult(final ServiceRequest request, final long value)
    {
        resultEncoder.wrapAndApplyHeader(replyBuffer, 0, headerEncoder).value(value);
        request.reply(replyBuffer, 0, MessageHeaderEncoder.ENCODED_LENGTH + resultEncoder.encodedLength());
    }

    private void onSet(final ServiceRequest request, final DirectBuffer buffer, final int offset, final int length)
    {
        setDecoder.wrapAndApplyHeader(buffer, offset, headerDecoder);
        final String key = setDecoder.key();
        final String value = setDecoder.value();
        if (key.isEmpty())
        {
            request.fail("EMPTY_KEY", "kv_store keys must not be empty");
            return;
        }
        store.put(key, value);
        storedEncoder.wrapAndApplyHeader(replyBuffer, 0, headerEncoder).stored(BooleanType.TRUE);
        request.reply(replyBuffer, 0, MessageHeaderEncoder.ENCODED_LENGTH + storedEncoder.encodedLength());
    }

    private void onGet(final ServiceRequest request, final DirectBuffer buffer, final int offset, final int length)
    {
        getDecoder.wrapAndApplyHeader(buffer, offset, headerDecoder);
        final String value = store.get(getDecoder.key());
        valueEncoder.wrapAndApplyHeader(replyBuffer, 0, headerEncoder)
            .found(null == value ? BooleanType.FALSE : BooleanType.TRUE)
            .value(null == value ? "" : value);
        request.reply(replyBuffer, 0, MessageHeaderEncoder.ENCODED_LENGTH + valueEncoder.encodedLength());
    }

    private void onCountdown(final StreamSession stream, final DirectBuffer buffer, final int offset, final int length)
    {
        countdownDecoder.wrapAndApplyHeader(buffer, offset, headerDecoder);
        final int from = countdownDecoder.from();
        final int intervalMs = countdownDecoder.interval_ms();
        if (from < 0 || from > 1_000_000 || intervalMs < 0 || intervalMs > 60_000)
        {
            stream.fail("INVALID_REQUEST", "countdown needs 0 <= from <= 1000000 and 0 <= interval_ms <= 60000");
            return;
        }
        if (0 == intervalMs)
        {
            final UnsafeBuffer tick = new UnsafeBuffer(new byte[64]);
            final TickEncoder encoder = new TickEncoder();
            final MessageHeaderEncoder header = new MessageHeaderEncoder();
            for (int remaining = from - 1; remaining >= 0; remaining--)
            {
                encoder.wrapAndApplyHeader(tick, 0, header).remaining(remaining);
                if (!stream.send(tick, 0, MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength()))
                {
                    return;
                }
            }
            stream.end();
            return;
        }
        new TimedCountdown(stream, from).start(intervalMs);
    }

    /** A countdown that sends one tick per interval from the timer thread until done or cancelled. */
    private final class TimedCountdown implements Runnable
    {
        private final StreamSession stream;
        private final UnsafeBuffer tick = new UnsafeBuffer(new byte[64]);
        private final TickEncoder encoder = new TickEncoder();
        private final MessageHeaderEncoder header = new MessageHeaderEncoder();
        private int remaining;
        private ScheduledFuture<?> future;

        TimedCountdown(final StreamSession stream, final int from)
        {
            this.stream = stream;
            this.remaining = from - 1;
        }

        void start(final int intervalMs)
        {
            stream.onCancel(() ->
            {
                COUNTDOWN_LOG.log(System.Logger.Level.INFO, "stream cancelled after " + stream.sent() + " ticks");
            });
            future = timer.scheduleAtFixedRate(this, 0, intervalMs, TimeUnit.MILLISECONDS);
        }

        public void run()
        {
            if (remaining < 0)
            {
                stream.end();
                future.cancel(false);
                return;
            }
            encoder.wrapAndApplyHeader(tick, 0, header).remaining(remaining--);
            if (!stream.send(tick, 0, MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength()))
            {
                future.cancel(false);
            }
        }
    }

    /** Publishes a random walk of each symbol's price. */
    private final class PriceFeed implements Runnable
    {
        private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256);
        private final PriceUpdateEncoder encoder = new PriceUpdateEncoder();
        private final MessageHeaderEncoder header = new MessageHeaderEncoder();
        private final double[] prices = new double[SYMBOLS.size()];

        PriceFeed()
        {
            Arrays.fill(prices, 100.0);
        }

        public void run()
        {
            for (int i = 0; i < prices.length; i++)
            {
                prices[i] = Math.max(0.01, prices[i] + ThreadLocalRandom.current().nextGaussian());
                encoder.wrapAndApplyHeader(buffer, 0, header)
                    .price(Math.round(prices[i] * 100) / 100.0)
                    .timestamp_ms(System.currentTimeMillis())
                    .symbol(SYMBOLS.get(i));
                client.publish("prices." + SYMBOLS.get(i), "PriceUpdate", PriceUpdateEncoder.TEMPLATE_ID,
                    buffer, 0, MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength());
            }
        }
    }

    /**
     * Stop the timers and the peer.
     */
    public void close()
    {
        timer.shutdownNow();
        CloseHelper.close(client);
    }

    /**
     * Run the demo services as their own process against a running broker.
     *
     * @param args optional {@code --socket-dir DIR} and {@code --no-price-feed}.
     * @throws InterruptedException if interrupted while running.
     */
    public static void main(final String[] args) throws InterruptedException
    {
        io.switchboard.transport.Logging.configure();
        final Switchboard.Context ctx = new Switchboard.Context().clientName("demo-services");
        boolean priceFeed = true;
        String prefix = "";
        for (int i = 0; i < args.length; i++)
        {
            if ("--socket-dir".equals(args[i]) && i + 1 < args.length)
            {
                ctx.controlSocket(Paths.get(args[++i], "control.sock"));
            }
            else if ("--as".equals(args[i]) && i + 1 < args.length)
            {
                prefix = args[++i] + "_";
            }
            else if ("--no-price-feed".equals(args[i]))
            {
                priceFeed = false;
            }
            else
            {
                System.err.println("usage: DemoServices [--socket-dir DIR] [--no-price-feed] [--as PREFIX]");
                System.exit(2);
            }
        }
        final CountDownLatch done = new CountDownLatch(1);
        try (DemoServices ignored = new DemoServices(Switchboard.connect(ctx), priceFeed, prefix))
        {
            Runtime.getRuntime().addShutdownHook(new Thread(done::countDown));
            io.switchboard.transport.Logging.logger("demo").log(System.Logger.Level.INFO, "demo services ready");
            done.await();
        }
    }
}
