/* Checks bench/proposals/sha256.c against OpenSSL: cc -O2 -o /tmp/sha256_check bench/proposals/sha256_check.c bench/proposals/sha256.c -lcrypto && /tmp/sha256_check */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
void rh_sha256 (const void *data, size_t len, unsigned char out[32]);
int main(void){
  unsigned char buf[5000], a[32], b[64]; unsigned n; int bad=0;
  srand(42);
  for (int t=0;t<20000;t++){ size_t len = t < 300 ? (size_t)t : (size_t)(rand()%4097); for(size_t i=0;i<len;i++) buf[i]=rand();
    rh_sha256(buf,len,a); EVP_Digest(buf,len,b,&n,EVP_sha256(),NULL); if(memcmp(a,b,32)){bad++; printf("mismatch len %zu\n",len);} }
  rh_sha256("abc",3,a); for(int i=0;i<32;i++)printf("%02x",a[i]); printf("\n");
  printf("%s\n", bad?"FAIL":"OK"); return bad!=0; }
