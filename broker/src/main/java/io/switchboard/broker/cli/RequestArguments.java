package io.switchboard.broker.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Parameters;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code SERVICE TYPE [PAYLOAD...]}: the positional arguments of the commands that send a request ({@code call},
 * {@code stream}), declared once and mixed in ({@code @Mixin}), so that their names, help and payload grammar stay
 * the same. ({@code reply} takes {@code SERVICE TYPE...}, the message types it serves, and no payload.)
 */
final class RequestArguments
{
    @Parameters(index = "0", paramLabel = "SERVICE", description = "the service to ask")
    String service;

    @Parameters(index = "1", paramLabel = "TYPE", description = "its message type")
    String type;

    @Parameters(index = "2..*", paramLabel = "PAYLOAD",
        description = "one JSON document, '-' (read from stdin), or key=value / key:=json pairs (none: null)")
    List<String> payload = new ArrayList<>();

    /**
     * @param in standard input, for a payload of '-'.
     * @return the request's payload, a JSON null when none was given.
     * @throws SwitchboardCli.UsageException when the payload is not valid.
     */
    JsonNode body(final InputStream in)
    {
        return SwitchboardCli.payload(payload, in);
    }
}
