/* STUB: replaced by the CLI work. */
int main (void);
int
main (void)
{
  return 1;
}
