#!/bin/sh
# Regenerates golden.txt: RSASSA-PKCS1-v1_5 SHA-256 signatures under key.pem
# made by the openssl command-line tool, independently of both backends.
# Each line is: NAME HEX(MESSAGE) BASE64(SIGNATURE). PKCS#1 v1.5 signing is
# deterministic, so rerunning this produces the same file.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
vec() {
	name=$1
	cat >"$tmp"
	msg=$(od -An -v -tx1 "$tmp" | tr -d ' \n')
	sig=$(openssl dgst -sha256 -sign key.pem "$tmp" | base64 -w0)
	printf '%s %s %s\n' "$name" "${msg:--}" "$sig"
}
{
	printf '' | vec empty
	printf 'hello, world' | vec hello
	printf 'GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n' | vec apiv3-get
	printf 'POST\n/v3/pay/transactions/jsapi\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","amount":{"total":100,"currency":"CNY"}}\n' | vec apiv3-post
	printf '1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{"code":"SUCCESS"}\n' | vec response
	i=0; while [ $i -lt 256 ]; do printf "\\$(printf %03o $i)"; i=$((i + 1)); done | vec bytes
	i=0; while [ $i -lt 256 ]; do printf '0123456789abcdef'; i=$((i + 1)); done | vec 4k
} >golden.txt
