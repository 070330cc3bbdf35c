package io.switchboard.broker;

import io.switchboard.codec.wire.ServiceMode;
import io.switchboard.codec.wire.Status;
import org.junit.jupiter.api.Test;

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
    void shouldSnapshotEachInstanceWithItsPeer()
    {
        final ClientSession peer = new ClientSession(null, 0);
        peer.clientId = 1;
        peer.name = "calc-java";
        peer.pid = 4242;
        assertTrue(registry.register("calc", ServiceMode.SHARED, TYPES, new byte[0], 1, 1001).isOk());
        assertTrue(registry.register("calc", ServiceMode.SHARED, TYPES, new byte[0], 2, 1002).isOk());
        final io.switchboard.broker.view.RegistrySnapshot snapshot =
            registry.snapshot(7, (clientId) -> 1 == clientId ? peer : null);
        final io.switchboard.broker.view.RegistrySnapshot.ServiceView calc = snapshot.service("calc");
        assertEquals(2, calc.instances());
        assertEquals(1, calc.instanceViews().get(0).clientId());
        assertEquals("calc-java", calc.instanceViews().get(0).peerName());
        assertEquals(4242, calc.instanceViews().get(0).pid());
        assertEquals(2, calc.instanceViews().get(1).clientId());
        assertEquals("", calc.instanceViews().get(1).peerName(), "a peer not known is described by its id alone");
        assertEquals(0, calc.instanceViews().get(1).pid());
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
}
