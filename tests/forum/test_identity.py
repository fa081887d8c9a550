import pytest
from django.test import RequestFactory

from forum.identity import client_ip, ip_hash


def request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(request("203.0.113.5", "198.51.100.1")) == "203.0.113.5"


def test_forwarded_for_is_read_through_trusted_proxies_only(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # client spoofs a first hop; the proxy chain appends the real address
    chain = "1.2.3.4, 198.51.100.7, 10.0.0.3"
    assert client_ip(request("10.0.0.2", chain)) == "198.51.100.7"


def test_forwarded_for_from_an_untrusted_peer_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request("203.0.113.5", "10.0.0.9")) == "203.0.113.5"


@pytest.mark.parametrize("header", ["", "garbage", "not-an-ip, 10.0.0.3"])
def test_a_garbled_forwarded_for_falls_back_to_the_peer(settings, header):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request("10.0.0.2", header)) == "10.0.0.2"


def test_ip_hash_is_keyed_and_stable(settings):
    settings.IP_HASH_KEY = "one"
    first = ip_hash("203.0.113.5")
    assert first == ip_hash("203.0.113.5") and "203.0.113.5" not in first
    settings.IP_HASH_KEY = "two"
    assert ip_hash("203.0.113.5") != first


def test_an_ipv4_address_written_as_ipv6_is_in_its_ipv4_network(settings):
    from forum.identity import network_of, request_network_hash

    settings.TRUSTED_PROXIES = []
    assert network_of("::ffff:198.51.100.7") == network_of("198.51.100.9") == "198.51.100.0/24"
    assert network_of("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    # Flags, votes, bans and lockouts all key on this one hash of the network.
    assert request_network_hash(request("::ffff:198.51.100.7")) == request_network_hash(
        request("198.51.100.200")
    )
    assert request_network_hash(request("198.51.101.1")) != request_network_hash(
        request("198.51.100.1")
    )
