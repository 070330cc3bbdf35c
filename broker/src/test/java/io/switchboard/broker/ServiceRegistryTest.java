package io.switchboard.broker;

import io.switchboard.codec.schema.MessageSchema;
import io.switchboard.codec.wire.ServiceMode;
import io.switchboard.codec.wire.Status;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ServiceRegistryTest
{
    private static final Map<String, Integer> TYPES = Map.of("Add", 1, "Multiply", 2);
    private final ServiceRegistry registry = new ServiceRegistry(3);

    @Test
    void shouldRefuseSecondOwnerOfExclusiveName()
    {
        assertTrue(registry.register("calc", ServiceMode.EXCLUSIVE, TYPES, new byte[0], 1, 1001).isOk());
        final ServiceRegistry.Outcome second = registry.register("calc", ServiceMode.EXCLUSIVE, TYPES, new byte[0], 2, 1002);
        assertEquals(Status.NAME_IN_USE, second.status());
        assertTrue(second.message().contains("peer 1"), second.message());
        assertEquals(Status.NAME_IN_USE,
            registry.register("calc", ServiceMode.SHARED, TYPES, new byte[0], 2, 1002).status());
    }

    @Test
    void shouldRefuseExclusiveClaimOnSharedName()
    {
        assertTrue(registry.register("calc", ServiceMode.SHARED, TYPES, new byte[0], 1, 1001).isOk());
        assertEquals(Status.NAME_IN_USE,
            registry.register("calc", ServiceMode.EXCLUSIVE, TYPES, new byte[0], 2, 1002).status());
    }

    @Test
    void shouldSpreadSharedNameRoundRobin()
    {
        assertTrue(registry.register("calc", ServiceMode.SHARED, TYPES, new byte[0], 1, 1001).isOk());
        assertTrue(registry.register("calc", ServiceMode.SHARED, TYPES, new byte[0], 2, 1002).isOk());
        final ServiceRegistry.Service service = registry.get("calc");
        assertEquals(1, service.next().clientId());
        assertEquals(2, service.next().clientId());
        assertEquals(1, service.next().clientId());
    }

    @Test
    void shouldRefuseSharedInstanceWithOtherMessageTypes()
    {
        assertTrue(registry.register("calc", ServiceMode.SHARED, TYPES, new byte[0], 1, 1001).isOk());
        final ServiceRegistry.Outcome outcome =
            registry.register("calc", ServiceMode.SHARED, Map.of("Add", 1), new byte[0], 2, 1002);
        assertEquals(Status.INVALID_REQUEST, outcome.status());
    }

    @Test
    void shouldRefuseAnSbeInstanceOfANameHeldAsOpaqueJsonNamingHowToJoin()
    {
        // the gateway's instance for socket clients that serve Add as JSON; a Java peer offers Add in SBE
        assertTrue(registry.register("calc", ServiceMode.SHARED, Map.of("Add", -1), new byte[0], 9, 1009, false)
            .isOk());
        final ServiceRegistry.Outcome outcome =
            registry.register("calc", ServiceMode.SHARED, Map.of("Add", 1), new byte[]{ 1, 2 }, 2, 1002);
        assertEquals(Status.INVALID_REQUEST, outcome.status());
        assertTrue(outcome.message().contains("[Add=opaque JSON]") &&
            outcome.message().contains("[Add=SBE template 1]") && outcome.message().contains("onOpaque"),
            outcome.message());
        assertTrue(registry.register("calc", ServiceMode.SHARED, Map.of("Add", -1), new byte[0], 2, 1002).isOk(),
            "the same types served opaque join");
        assertEquals(2, registry.get("calc").instances().size());
    }

    @Test
    void shouldNameBothSidesWhenSharedTypesDifferOnlyInTemplateIds()
    {
        assertTrue(registry.register("calc", ServiceMode.SHARED, Map.of("Add", 1), new byte[]{ 1, 2 }, 1, 1001).isOk());
        final ServiceRegistry.Outcome outcome =
            registry.register("calc", ServiceMode.SHARED, Map.of("Add", -1), new byte[0], 2, 1002);
        assertEquals(Status.INVALID_REQUEST, outcome.status());
        assertTrue(outcome.message().contains("[Add=SBE template 1]") &&
            outcome.message().contains("[Add=opaque JSON]") && outcome.message().contains("the same names"),
            outcome.message());
    }

    @Test
    void shouldRefuseSharedInstanceWithAnotherSchema()
    {
        assertTrue(registry.register("calc", ServiceMode.SHARED, TYPES, new byte[]{ 1, 2, 3 }, 1, 1001).isOk());
        final ServiceRegistry.Outcome outcome =
            registry.register("calc", ServiceMode.SHARED, TYPES, new byte[]{ 1, 2, 4 }, 2, 1002);
        assertEquals(Status.INVALID_REQUEST, outcome.status());
        assertTrue(outcome.message().contains("schema"), outcome.message());
        assertTrue(registry.register("calc", ServiceMode.SHARED, TYPES, new byte[]{ 1, 2, 3 }, 3, 1003).isOk(),
            "an equal copy of the schema is the same schema");
        assertEquals(2, registry.get("calc").instances().size());
    }

    @Test
    void shouldRefuseSamePeerTwice()
    {
        assertTrue(registry.register("calc", ServiceMode.SHARED, TYPES, new byte[0], 1, 1001).isOk());
        assertEquals(Status.NAME_IN_USE,
            registry.register("calc", ServiceMode.SHARED, TYPES, new byte[0], 1, 1001).status());
    }

    @Test
    void shouldRemoveEverythingADeadPeerHeld()
    {
        registry.register("a", ServiceMode.EXCLUSIVE, TYPES, new byte[0], 1, 1001);
        registry.register("b", ServiceMode.SHARED, TYPES, new byte[0], 1, 1001);
        registry.register("b", ServiceMode.SHARED, TYPES, new byte[0], 2, 1002);
        assertEquals(List.of("a", "b"), registry.removeClient(1));
        assertNull(registry.get("a"));
        assertEquals(1, registry.get("b").instances().size());
        assertEquals(2, registry.get("b").next().clientId());
        assertTrue(registry.register("a", ServiceMode.EXCLUSIVE, TYPES, new byte[0], 3, 1003).isOk(),
            "a name is free again once its owner is gone");
    }

    @Test
    void shouldUnregisterOnlyTheCallersInstance()
    {
        registry.register("b", ServiceMode.SHARED, TYPES, new byte[0], 1, 1001);
        assertFalse(registry.unregister("b", 2));
        assertTrue(registry.unregister("b", 1));
        assertNull(registry.get("b"));
    }

    @Test
    void shouldBoundTheNumberOfNames()
    {
        for (int i = 0; i < 3; i++)
        {
            assertTrue(registry.register("s" + i, ServiceMode.EXCLUSIVE, TYPES, new byte[0], 1, 1001).isOk());
        }
        assertEquals(Status.INVALID_REQUEST,
            registry.register("s3", ServiceMode.EXCLUSIVE, TYPES, new byte[0], 1, 1001).status());
    }

    // ------------------------------------------------------------------------- schemas declared by publishers

    private static byte[] schemaIr(final int schemaId, final int version)
    {
        final String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" +
            "<sbe:messageSchema xmlns:sbe=\"http://fixprotocol.io/2016/sbe\" package=\"t\" id=\"" + schemaId +
            "\" version=\"" + version + "\" byteOrder=\"littleEndian\"><types><composite name=\"messageHeader\">" +
            "<type name=\"blockLength\" primitiveType=\"uint16\"/><type name=\"templateId\" primitiveType=\"uint16\"/>" +
            "<type name=\"schemaId\" primitiveType=\"uint16\"/><type name=\"version\" primitiveType=\"uint16\"/>" +
            "</composite></types><sbe:message name=\"Tick\" id=\"1\"><field name=\"n\" id=\"1\" type=\"int32\"/>" +
            "</sbe:message></sbe:messageSchema>";
        try (InputStream in = new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)))
        {
            return MessageSchema.fromXml(in).irBytes();
        }
        catch (final java.io.IOException ex)
        {
            throw new AssertionError(ex);
        }
    }

    @Test
    void shouldKeepADeclaredSchemaByItsIdAndVersionUntilItsPeerGoes()
    {
        final PublishedSchemas schemas = new PublishedSchemas(registry);
        final byte[] ir = schemaIr(77, 3);

        assertTrue(schemas.declare(5, ir, true).isOk());
        assertTrue(schemas.declare(5, ir, true).isOk(), "declaring the same schema again is no change");
        assertEquals(ir.length, registry.schemaBytesOf(5));
        assertEquals(ir.length, registry.schemaBytes());
        assertArrayEquals(ir, schemas.irBySchema().get(PublishedSchemas.schemaKey(77, 3)));
        assertNull(schemas.irBySchema().get(PublishedSchemas.schemaKey(77, 2)));
        assertNull(schemas.irBySchema().get(PublishedSchemas.schemaKey(78, 3)));

        assertEquals(1, schemas.removeClient(5));
        assertEquals(0, registry.schemaBytesOf(5));
        assertEquals(0, registry.schemaBytes());
        assertNull(schemas.irBySchema().get(PublishedSchemas.schemaKey(77, 3)));
    }

    @Test
    void shouldListTheSchemasOfRegisteredServicesByIdAndVersionToo()
    {
        final PublishedSchemas schemas = new PublishedSchemas(registry);
        final byte[] ir = schemaIr(90, 1);
        assertTrue(registry.register("calc", ServiceMode.SHARED, Map.of("Tick", 1), ir, 1, 1001).isOk());

        assertArrayEquals(ir, schemas.irBySchema().get(PublishedSchemas.schemaKey(90, 1)));
        assertEquals(PublishedSchemas.schemaKey(90, 1), schemas.serviceKey(ir), "the key route updates name");
        registry.removeClient(1);
        assertNull(schemas.irBySchema().get(PublishedSchemas.schemaKey(90, 1)));
    }

    @Test
    void shouldCountDeclaredSchemasAgainstThePerPeerSchemaLimit()
    {
        final byte[] ir = schemaIr(77, 1);
        final ServiceRegistry limited = new ServiceRegistry(10, Long.MAX_VALUE, 10, ir.length + 10);
        final PublishedSchemas schemas = new PublishedSchemas(limited);
        assertTrue(schemas.declare(5, ir, true).isOk());

        final ServiceRegistry.Outcome second = schemas.declare(5, schemaIr(77, 2), true);
        assertEquals(Status.PAYLOAD_TOO_LARGE, second.status());
        assertTrue(second.isPeerLimit());
        assertTrue(second.message().contains("expected at most " + (ir.length + 10)), second.message());
        assertEquals(1, schemas.schemasOf(5));
        assertEquals(ir.length, limited.schemaBytesOf(5));

        final ServiceRegistry.Outcome service =
            limited.register("calc", ServiceMode.SHARED, Map.of("Tick", 1), schemaIr(90, 1), 5, 1005);
        assertEquals(Status.PAYLOAD_TOO_LARGE, service.status(), "a service's IR shares the bound with declared ones");

        assertTrue(schemas.declare(5, ir, false).isOk(), "an unlimited peer (the gateway) is not bound per peer");
        assertTrue(schemas.declare(6, schemaIr(77, 2), true).isOk(), "another peer has its own bound");
    }

    @Test
    void shouldCountDeclaredSchemasAgainstTheTotalSchemaLimit()
    {
        final byte[] ir = schemaIr(77, 1);
        final ServiceRegistry limited = new ServiceRegistry(10, ir.length + 10, 10, Long.MAX_VALUE);
        final PublishedSchemas schemas = new PublishedSchemas(limited);
        assertTrue(schemas.declare(5, ir, false).isOk());

        final ServiceRegistry.Outcome refused = schemas.declare(6, schemaIr(77, 2), false);
        assertEquals(Status.PAYLOAD_TOO_LARGE, refused.status());
        assertFalse(refused.isPeerLimit());
        assertEquals(0, schemas.schemasOf(6));

        schemas.removeClient(5);
        assertTrue(schemas.declare(6, schemaIr(77, 2), false).isOk(), "the bytes of a peer that went are free again");
    }

    @Test
    void shouldRefuseBytesThatAreNoSchemaAsInvalidRequest()
    {
        final PublishedSchemas schemas = new PublishedSchemas(registry);
        final ServiceRegistry.Outcome outcome = schemas.declare(5, new byte[]{ 1, 2, 3 }, true);
        assertEquals(Status.INVALID_REQUEST, outcome.status());
        assertTrue(outcome.message().startsWith("declared schema: "), outcome.message());
        assertEquals(0, registry.schemaBytesOf(5));
        assertEquals(0, schemas.schemasOf(5));
    }
}
