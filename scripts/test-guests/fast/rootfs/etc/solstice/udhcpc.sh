#!/bin/sh
# udhcpc event script (solstice.net=dhcp).
case "$1" in
  bound | renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do ip route add default via "$r" dev "$interface"; break; done
    : >/etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
    ;;
  deconfig) ip addr flush dev "$interface" ;;
esac
exit 0
