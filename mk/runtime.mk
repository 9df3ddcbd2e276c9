# runtime.mk: the fprt runtime, release and checked (-DFPRT_CHECKED), from
# runtime/src and runtime/arch/$(RT_ARCH).  Included by the Makefile (amd64)
# and by mk/arm64.mk, which set RT_ARCH, CC, AR, CFLAGS, ASFLAGS, INC, OBJ, LIB.

RT_SRC_C = $(wildcard runtime/src/*.c)
RT_SRC_S = $(wildcard runtime/arch/$(RT_ARCH)/*.S)
RT_REL_O = $(RT_SRC_C:%.c=$(OBJ)/release/%.o) $(RT_SRC_S:%.S=$(OBJ)/release/%.o)
RT_CHK_O = $(RT_SRC_C:%.c=$(OBJ)/checked/%.o) $(RT_SRC_S:%.S=$(OBJ)/checked/%.o)
RT_INC   = $(INC) -Iruntime/src

$(OBJ)/release/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(RT_INC) -c $< -o $@
$(OBJ)/release/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(ASFLAGS) $(RT_INC) -c $< -o $@
$(OBJ)/checked/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DFPRT_CHECKED $(RT_INC) -c $< -o $@
$(OBJ)/checked/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(ASFLAGS) -DFPRT_CHECKED $(RT_INC) -c $< -o $@

$(LIB)/libfprt.a: $(RT_REL_O)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^
$(LIB)/libfprt-checked.a: $(RT_CHK_O)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^
