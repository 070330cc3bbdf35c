package io.switchboard.broker.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of the build, from the properties Maven writes into the jar. */
public final class Version implements CommandLine.IVersionProvider
{
    @Override
    public String[] getVersion()
    {
        return new String[]{"switchboard " + version() + " (Java " + Runtime.version().feature() + ")"};
    }

    static String version()
    {
        try (InputStream stream = SwitchboardCli.class.getResourceAsStream("version.properties"))
        {
            if (null != stream)
            {
                final Properties properties = new Properties();
                properties.load(stream);
                return properties.getProperty("version", "unknown");
            }
        }
        catch (final IOException ignore)
        {
            // the version is then unknown
        }
        return "unknown";
    }
}
