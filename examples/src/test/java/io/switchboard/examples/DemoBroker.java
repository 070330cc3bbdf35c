package io.switchboard.examples;

import io.switchboard.transport.Switchboard;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A broker process with the demo services in a process of their own, a Java client in the test's JVM that has seen
 * the calculator's route, and a way to start Python clients against it: the fixture of the cross-language tests.
 */
final class DemoBroker implements AutoCloseable
{
    /** The checkout's root (tests run from the examples module). */
    static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

    final BrokerProcess broker;
    final ProcessHarness services;
    final Switchboard java;

    private DemoBroker(final BrokerProcess broker, final ProcessHarness services, final Switchboard java)
    {
        this.broker = broker;
        this.services = services;
        this.java = java;
    }

    /**
     * Start the broker and the demo services, and connect a Java client that waits for the calculator.
     *
     * @param clientName of the Java client.
     * @return the running fixture.
     * @throws Exception if anything fails to start.
     */
    static DemoBroker start(final String clientName) throws Exception
    {
        if (!Files.isDirectory(ROOT.resolve("clients/python/switchboard")))
        {
            throw new AssertionError("run from the examples module: no clients/python under " + ROOT);
        }
        final BrokerProcess broker = new BrokerProcess();
        ProcessHarness services = null;
        Switchboard java = null;
        try
        {
            services = broker.startDemoServices();
            java = broker.connect(clientName);
            JavaPathSystemTest.awaitService(java, "calculator");
            return new DemoBroker(broker, services, java);
        }
        catch (final Exception | AssertionError ex)
        {
            new DemoBroker(broker, services, java).close();
            throw ex;
        }
    }

    /**
     * Path of the gateway socket.
     *
     * @return the path.
     */
    String socket()
    {
        return broker.socketDir.resolve("broker.sock").toString();
    }

    /**
     * Start a Python script with the checkout's client on its path and the gateway socket as its argument.
     *
     * @param name  of the process, for its output.
     * @param lines of the script.
     * @return the process.
     * @throws Exception if it cannot be started.
     */
    ProcessHarness python(final String name, final String... lines) throws Exception
    {
        return ProcessHarness.startCommand(name, ROOT, "env", "PYTHONPATH=" + ROOT.resolve("clients/python"),
            "python3", "-u", "-c", String.join("\n", lines), socket());
    }

    public void close() throws Exception
    {
        try
        {
            if (null != java)
            {
                java.close();
            }
            if (null != services)
            {
                services.terminate();
            }
        }
        finally
        {
            broker.close();
        }
    }
}
