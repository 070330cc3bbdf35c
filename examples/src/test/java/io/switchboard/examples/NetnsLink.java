package io.switchboard.examples;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Two network namespaces joined by a veth pair ({@code 10.201.x.1/24} and {@code .2}), made with {@code ip} as
 * root, and the means to run a Java program inside one, cut the pair, and drop a random share of its packets with
 * a {@code clsact} qdisc and a classic-BPF filter (this kernel has no netem). {@link #close()} deletes both
 * namespaces (the veth pair goes with them).
 */
final class NetnsLink implements AutoCloseable
{
    /** Set to {@code off} to switch the namespace tests off where namespaces cannot be made. */
    static final String NETNS_PROP = "switchboard.test.netns";

    /** SKF_AD_OFF + SKF_AD_RANDOM: classic BPF's load of a random 32-bit number. */
    private static final long LOAD_RANDOM = 0xfffff000L + 56;

    final String nsA;
    final String nsB;
    final String vethA;
    final String vethB;
    final String addressA;
    final String addressB;

    private NetnsLink(final int subnet)
    {
        final String id = UUID.randomUUID().toString().substring(0, 6);
        nsA = "sb-link-a-" + id;
        nsB = "sb-link-b-" + id;
        vethA = "sbla" + id;
        vethB = "sblb" + id;
        addressA = "10.201." + subnet + ".1";
        addressB = "10.201." + subnet + ".2";
    }

    /**
     * Make the namespaces and the pair, or fail loudly saying how to switch the test off.
     */
    static NetnsLink create() throws Exception
    {
        final NetnsLink link = new NetnsLink(1 + (int)(System.nanoTime() % 200));
        try
        {
            run("ip", "netns", "add", link.nsA);
            run("ip", "netns", "add", link.nsB);
            run("ip", "link", "add", link.vethA, "netns", link.nsA, "type", "veth", "peer", "name", link.vethB,
                "netns", link.nsB);
            link.inA("ip", "addr", "add", link.addressA + "/24", "dev", link.vethA);
            link.inB("ip", "addr", "add", link.addressB + "/24", "dev", link.vethB);
            link.inA("ip", "link", "set", link.vethA, "up");
            link.inB("ip", "link", "set", link.vethB, "up");
            link.inA("ip", "link", "set", "lo", "up");
            link.inB("ip", "link", "set", "lo", "up");
        }
        catch (final Exception | AssertionError ex)
        {
            link.close();
            fail("cannot make two network namespaces joined by a veth pair (needs root and iproute2): " +
                ex.getMessage() + "; switch this test off with -D" + NETNS_PROP + "=off", ex);
        }
        return link;
    }

    void inA(final String... command) throws Exception
    {
        run(prefixed(nsA, command));
    }

    void inB(final String... command) throws Exception
    {
        run(prefixed(nsB, command));
    }

    /**
     * Drop about this share of the packets leaving each end of the pair (0 removes the filters).
     */
    void dropShare(final double share) throws Exception
    {
        for (final String[] end : new String[][] {{nsA, vethA}, {nsB, vethB}})
        {
            runQuietly("ip", "netns", "exec", end[0], "tc", "qdisc", "del", "dev", end[1], "clsact");
            if (share > 0)
            {
                run("ip", "netns", "exec", end[0], "tc", "qdisc", "add", "dev", end[1], "clsact");
                // A = random u32; if A >= keep threshold: return TC_ACT_SHOT (2) else TC_ACT_OK (0)
                final long threshold = (long)((1.0 - share) * 4294967296.0);
                final String bytecode = "4," + "32 0 0 " + LOAD_RANDOM + "," + "53 0 1 " + threshold + "," +
                    "6 0 0 2," + "6 0 0 0";
                run("ip", "netns", "exec", end[0], "tc", "filter", "add", "dev", end[1], "egress", "bpf", "da",
                    "bytecode", bytecode);
            }
        }
    }

    /**
     * What {@code tc -s qdisc show} says of A's end: the clsact qdisc counts the packets the filter dropped.
     */
    String filterStats() throws Exception
    {
        return runForOutput("ip", "netns", "exec", nsA, "tc", "-s", "qdisc", "show", "dev", vethA);
    }

    /** Take A's end of the pair down, or up again. */
    void setUp(final boolean up) throws Exception
    {
        inA("ip", "link", "set", vethA, up ? "up" : "down");
    }

    /**
     * Start a Java program inside a namespace with the test class path, as ProcessHarness does outside.
     */
    static ProcessHarness startJava(
        final String ns, final String name, final Path workingDir, final Class<?> mainClass, final String... args)
        throws IOException
    {
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns,
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
            "-Xmx256m", "-cp", System.getProperty("java.class.path"), mainClass.getName()));
        Collections.addAll(command, args);
        return ProcessHarness.startCommand(name, workingDir, command.toArray(new String[0]));
    }

    private static String[] prefixed(final String ns, final String... command)
    {
        final String[] all = new String[4 + command.length];
        all[0] = "ip";
        all[1] = "netns";
        all[2] = "exec";
        all[3] = ns;
        System.arraycopy(command, 0, all, 4, command.length);
        return all;
    }

    static void run(final String... command) throws Exception
    {
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || 0 != p.exitValue())
        {
            throw new AssertionError(String.join(" ", command) + " failed: " + out.trim());
        }
    }

    private static String runForOutput(final String... command) throws Exception
    {
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    private static void runQuietly(final String... command)
    {
        try
        {
            final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        catch (final Exception ignore)
        {
            // nothing to remove
        }
    }

    public void close()
    {
        runQuietly("ip", "netns", "del", nsA);
        runQuietly("ip", "netns", "del", nsB);
    }
}
