package io.switchboard.transport;

import io.switchboard.codec.wire.Status;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ErrorCodesTest
{
    @Test
    void shouldHaveOneConstantForEveryErrorStatusOfTheSchemaAndNoOther() throws Exception
    {
        final List<String> expected = new ArrayList<>();
        for (final Status status : Status.values())
        {
            if (Status.NULL_VAL != status && Status.OK != status && Status.APPLICATION_ERROR != status)
            {
                expected.add(status.name());
            }
        }
        final List<String> actual = new ArrayList<>();
        for (final Field field : ErrorCodes.class.getFields())
        {
            if (Modifier.isStatic(field.getModifiers()) && String.class == field.getType())
            {
                assertEquals(field.getName(), field.get(null), "constant " + field.getName());
                actual.add(field.getName());
            }
        }
        expected.sort(null);
        actual.sort(null);
        assertEquals(expected, actual);
    }

    @Test
    void shouldMapEachCodeToItsStatusAndAServicesOwnToApplicationError()
    {
        assertEquals(Status.TIMEOUT, ErrorCodes.status(ErrorCodes.TIMEOUT));
        assertEquals(Status.RATE_LIMITED, ErrorCodes.status("RATE_LIMITED"));
        assertEquals(Status.APPLICATION_ERROR, ErrorCodes.status("INSUFFICIENT_FUNDS"));
        assertEquals(Status.APPLICATION_ERROR, ErrorCodes.status("OK"));
        assertEquals(Status.APPLICATION_ERROR, ErrorCodes.status(null));
        assertTrue(ErrorCodes.isProtocolCode(ErrorCodes.NAME_IN_USE));
        assertFalse(ErrorCodes.isProtocolCode("INSUFFICIENT_FUNDS"));
    }
}
