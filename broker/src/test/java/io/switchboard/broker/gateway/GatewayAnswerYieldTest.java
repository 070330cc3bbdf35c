package io.switchboard.broker.gateway;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GatewayAnswerYieldTest
{
    private static GatewayContext context()
    {
        return new GatewayContext().socketPath(Path.of("/tmp/sb-gateway-answer-yield-test.sock"));
    }

    @Test
    void answerYieldIsOffByDefaultAndBoundedToTenMilliseconds()
    {
        assertEquals(0, new GatewayContext().answerYieldUs(), "off by default: parks at once");
        assertEquals(200, context().answerYieldUs(200).conclude().answerYieldUs());

        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> context().answerYieldUs(10_001).conclude());
        assertTrue(ex.getMessage().contains("expected 0 to 10000 us, actual=10001"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> context().answerYieldUs(-1).conclude());
    }
}
